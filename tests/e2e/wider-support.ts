/**
 * WIDER FACE helpers for the dataset and evaluation specs: the official zips built from
 * ../shared/widerface with fflate into a temp dir (never into the repo), damaged variants of the
 * annotation list, and IndexedDB record counts read from the page.
 */
import { expect, type Page } from '@playwright/test';
import { zipSync, type Zippable } from 'fflate';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { sharedPath } from './support.ts';

export const WIDER_DIR = () => sharedPath('widerface');

/** Face counts of ../shared/widerface (README): train 400 images / 2,035 faces, val 200 / 2,727. */
export const SHARED_COUNTS = { train: { images: 400, faces: 2035 }, val: { images: 200, faces: 2727 } } as const;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** `{ 'WIDER_val/images/…/x.jpg': bytes }` for a folder of ../shared/widerface. */
export function sharedEntries(folder: string): Record<string, Uint8Array> {
  const root = WIDER_DIR();
  const out: Record<string, Uint8Array> = {};
  for (const p of filesUnder(join(root, folder))) out[relative(root, p).split('\\').join('/')] = new Uint8Array(readFileSync(p));
  return out;
}

export interface WiderZips {
  dir: string;
  train: string;
  val: string;
  split: string;
  evalTools: string;
  cleanup(): void;
}

/** The official archives, built once per call into a fresh temp dir. Train is deflated, the rest stored. */
export function buildWiderZips(): WiderZips {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-e2e-wider-'));
  const write = (name: string, files: Zippable, level: 0 | 1) => {
    const path = join(dir, name);
    writeFileSync(path, zipSync(files, { level }));
    return path;
  };
  return {
    dir,
    train: write('WIDER_train.zip', sharedEntries('WIDER_train'), 1),
    val: write('WIDER_val.zip', sharedEntries('WIDER_val'), 0),
    split: write('wider_face_split.zip', sharedEntries('wider_face_split'), 1),
    evalTools: write('eval_tools.zip', sharedEntries('eval_tools'), 0),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes `files` as a zip (stored) into `dir`, returns its path. */
export function writeZip(dir: string, name: string, files: Record<string, Uint8Array>): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, zipSync(files, { level: 0 }));
  return path;
}

export function sharedValAnnotation(): string {
  return readFileSync(join(WIDER_DIR(), 'wider_face_split', 'wider_face_val_bbx_gt.txt'), 'utf8');
}

/** Record counts of the dataset stores (call after the studio opened its database). */
export async function datasetStoreCounts(page: Page): Promise<{ datasets: number; datasetImages: number; datasetBlobs: number }> {
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
    const out = { datasets: await count('datasets'), datasetImages: await count('datasetImages'), datasetBlobs: await count('datasetBlobs') };
    db.close();
    return out;
  });
}

/** Opens the datasets page (backend selected, database open). */
export async function openDatasets(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}#datasets`);
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', '');
  await expect(page.getByTestId('dataset-list')).toBeVisible();
}

/** The row of the stored dataset of `split` (expects exactly one). */
export function datasetRow(page: Page, split: 'train' | 'val') {
  return page.locator(`[data-testid="dataset-row"][data-split="${split}"]`);
}

/** Asserts the list shows `split` with these counts. */
export async function expectDataset(page: Page, split: 'train' | 'val', images: number, faces: number): Promise<void> {
  const row = datasetRow(page, split);
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('dataset-images')).toHaveText(images.toLocaleString('en-US'));
  await expect(row.getByTestId('dataset-faces')).toHaveText(faces.toLocaleString('en-US'));
}
