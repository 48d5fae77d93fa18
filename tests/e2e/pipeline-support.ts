/**
 * Helpers for the pipeline, training and model-zoo specs: a small WIDER import (train + val subsets
 * of ../shared/widerface), the original model loaded and stored, budget fields, and run state read
 * from the page.
 */
import { expect, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { loadOriginalModel } from './support.ts';
import { WIDER_DIR, datasetRow, openDatasets } from './wider-support.ts';

/** Opens the studio on WASM, imports `train` + `val` images (val with the .mat ground truth) and loads the original model. */
export async function prepareStudio(page: Page, subset: { train: number; val: number }): Promise<void> {
  await openDatasets(page, '?backend=wasm');
  await page.getByTestId('wider-folder-input').setInputFiles(WIDER_DIR());
  await expect(page.getByTestId('split-train-annotated')).toHaveText('400');
  await page.getByTestId('split-train-size').fill(String(subset.train));
  if (subset.val > 0) await page.getByTestId('split-val-size').fill(String(subset.val));
  else await page.getByTestId('split-val-enabled').uncheck();
  await page.getByTestId('wider-import').click();
  await expect(datasetRow(page, 'train').getByTestId('dataset-images')).toHaveText(String(subset.train), { timeout: 120_000 });
  if (subset.val > 0) await expect(datasetRow(page, 'val').getByTestId('dataset-images')).toHaveText(String(subset.val));
  await page.getByTestId('nav-detect').click();
  await loadOriginalModel(page);
}

/** Fills number fields by test id. */
export async function fillFields(page: Page, fields: Record<string, number | string>): Promise<void> {
  for (const [testid, value] of Object.entries(fields)) await page.getByTestId(testid).fill(String(value));
}

/** Number of trial rows shown by the BO dashboard. */
export function trialRows(page: Page) {
  return page.getByTestId('trial-row');
}

/** Saves a download to the test's output folder and returns its bytes. */
export async function downloadBytes(download: Download, path: string): Promise<Uint8Array> {
  await download.saveAs(path);
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Record counts of the run stores (after the studio opened its database). */
export async function runStoreCounts(page: Page): Promise<{ runs: number; runWeights: number }> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('bfpgm-studio');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const count = (name: string) =>
      new Promise<number>((resolve, reject) => {
        const req = db.transaction(name).objectStore(name).count();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const out = { runs: await count('runs'), runWeights: await count('runWeights') };
    db.close();
    return out;
  });
}

/**
 * Starts recording, in the page, every text `testid`'s element shows from now on (a MutationObserver),
 * so a test can assert what never appeared — e.g. that a resumed run never restarted from scratch.
 */
export async function recordTexts(page: Page, testid: string): Promise<() => Promise<string[]>> {
  const key = `__texts_${testid.replace(/\W/g, '_')}`;
  await page.evaluate(({ testid, key }) => {
    const seen: string[] = [];
    (window as unknown as Record<string, string[]>)[key] = seen;
    const grab = () => {
      for (const el of document.querySelectorAll(`[data-testid="${testid}"]`)) seen.push(el.textContent ?? '');
    };
    new MutationObserver(grab).observe(document.body, { subtree: true, childList: true, characterData: true });
    grab();
  }, { testid, key });
  return () => page.evaluate((key) => (window as unknown as Record<string, string[]>)[key]!, key);
}

/** Starts recording the smallest number of elements with `testid` seen from now on. */
export async function recordMinCount(page: Page, testid: string): Promise<() => Promise<number>> {
  const key = `__min_${testid.replace(/\W/g, '_')}`;
  await page.evaluate(({ testid, key }) => {
    const w = window as unknown as Record<string, number>;
    const count = () => (w[key] = Math.min(w[key] ?? Infinity, document.querySelectorAll(`[data-testid="${testid}"]`).length));
    new MutationObserver(count).observe(document.body, { subtree: true, childList: true });
    count();
  }, { testid, key });
  return () => page.evaluate((key) => (window as unknown as Record<string, number>)[key]!, key);
}
