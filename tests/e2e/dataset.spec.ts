/**
 * WIDER FACE in the browser: import ../shared/widerface as folders and as the official zips, browse it,
 * cancel, re-import, and reject bad inputs without keeping anything.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAS_SHARED } from '../helpers/shared.ts';
import { ORIGINAL_PTH, dropFiles, fileFromDisk, screenshot, seriousViolations, requireShared } from './support.ts';
import {
  SHARED_COUNTS,
  WIDER_DIR,
  buildWiderZips,
  datasetRow,
  datasetStoreCounts,
  expectDataset,
  openDatasets,
  sharedEntries,
  sharedValAnnotation,
  writeZip,
  type WiderZips,
} from './wider-support.ts';

test.describe('WIDER FACE datasets', () => {
  test.beforeEach(() => requireShared());

  test('imports the shared subset picked as a folder, browses and deletes it', async ({ page }, testInfo) => {
    await openDatasets(page);
    await expect(page.getByTestId('dataset-empty')).toBeVisible();
    // A webkitdirectory input accepts a directory path (Playwright ≥ 1.45).
    await page.getByTestId('wider-folder-input').setInputFiles(WIDER_DIR());
    await expect(page.getByTestId('split-train-annotated')).toHaveText('400');
    await expect(page.getByTestId('split-train-faces')).toHaveText('2,035');
    await expect(page.getByTestId('split-val-annotated')).toHaveText('200');
    await expect(page.getByTestId('split-val-faces')).toHaveText('2,727');
    await expect(page.getByTestId('split-val-gt')).toContainText('evaluation possible');
    await page.getByTestId('wider-import').click();
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await expect(page.getByTestId('import-outcome')).toBeVisible({ timeout: 120_000 });
    await expectDataset(page, 'train', SHARED_COUNTS.train.images, SHARED_COUNTS.train.faces);
    await expectDataset(page, 'val', SHARED_COUNTS.val.images, SHARED_COUNTS.val.faces);
    expect(await datasetStoreCounts(page)).toEqual({ datasets: 2, datasetImages: 600, datasetBlobs: 600 });
    await expect(page.getByTestId('storage-usage')).not.toHaveText('0 kB');

    // Browse val: thumbnails with boxes, filters by event and by Hard membership.
    await datasetRow(page, 'val').getByTestId('dataset-open').click();
    const browser = page.getByTestId('dataset-browser');
    await expect(browser.getByTestId('browser-summary')).toHaveAttribute('data-images', '200');
    await expect(browser.getByTestId('browser-summary')).toHaveAttribute('data-faces', '2727');
    await expect(browser.getByTestId('browser-thumb')).toHaveCount(24);
    const firstThumb = browser.getByTestId('browser-thumb').first();
    await expect(firstThumb.locator('img')).toHaveJSProperty('complete', true);
    expect(await firstThumb.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    await expect(firstThumb.getByTestId('annotated-box').first()).toBeAttached();
    await screenshot(page, testInfo, 'dataset-browser');

    await browser.getByTestId('browser-event').selectOption('19--Couple');
    const summary = browser.getByTestId('browser-summary');
    const coupleImages = Number(await summary.getAttribute('data-images'));
    expect(coupleImages).toBeGreaterThan(0);
    expect(coupleImages).toBeLessThan(200);
    for (const key of await browser.getByTestId('browser-thumb').evaluateAll((n) => n.map((e) => (e as HTMLElement).dataset.key!))) {
      expect(key.startsWith('19--Couple/')).toBe(true);
    }
    await browser.getByTestId('browser-event').selectOption('');
    await browser.getByTestId('browser-setting-easy').check();
    const easyImages = Number(await summary.getAttribute('data-images'));
    await browser.getByTestId('browser-setting-hard').check();
    const hardImages = Number(await summary.getAttribute('data-images'));
    expect(easyImages).toBeGreaterThan(0);
    expect(hardImages).toBeGreaterThanOrEqual(easyImages);
    expect(hardImages).toBeLessThanOrEqual(200);

    // Detail view with the boxes; invalid faces are drawn in their own style.
    await browser.getByTestId('browser-setting-all').check();
    await browser.getByTestId('browser-thumb').first().click();
    const detail = browser.getByTestId('browser-detail');
    await expect(detail).toBeVisible();
    const boxes = detail.getByTestId('annotated-box');
    expect(await boxes.count()).toBe(Number(await firstThumb.getAttribute('data-faces')));
    await page.keyboard.press('ArrowRight');
    await expect(detail).not.toHaveAttribute('data-key', (await firstThumb.getAttribute('data-key'))!);
    await screenshot(page, testInfo, 'dataset-detail');
    expect(await seriousViolations(page)).toEqual([]);

    // Delete train (asks once more), val stays intact.
    await datasetRow(page, 'train').getByTestId('dataset-delete').click();
    await datasetRow(page, 'train').getByTestId('dataset-delete').click();
    await expect(datasetRow(page, 'train')).toHaveCount(0);
    await expectDataset(page, 'val', SHARED_COUNTS.val.images, SHARED_COUNTS.val.faces);
    expect(await datasetStoreCounts(page)).toEqual({ datasets: 1, datasetImages: 200, datasetBlobs: 200 });
  });

  test('upgrading the database from version 1 keeps the stored models and adds the dataset stores', async ({ page }) => {
    // A page of the studio's origin that does not start the studio, to write a version-1 database.
    await page.route('**/__v1-setup', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>setup</title>' }));
    await page.goto('/__v1-setup');
    const checkpoint = readFileSync(ORIGINAL_PTH()).toString('base64');
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('bfpgm-studio', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('models', { keyPath: 'id' }).createIndex('by-used', 'usedAt');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const info = { parameters: 92208, sparsity: 0.09, groups: [], ungrouped: { name: 'heads', parameters: 646, zeros: 0 }, macs480x640: 0, archiveName: 'x' };
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('models', 'readwrite');
        tx.objectStore('models').put({ id: 'v1-model', name: 'from-version-1.pth', bytes, info, addedAt: 1, usedAt: 1 });
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, checkpoint);

    await openDatasets(page);
    await expect(page.getByTestId('header-model')).toContainText('from-version-1.pth');
    expect(await datasetStoreCounts(page)).toEqual({ datasets: 0, datasetImages: 0, datasetBlobs: 0 });
    expect(await page.evaluate(async () => (await indexedDB.databases()).find((d) => d.name === 'bfpgm-studio')?.version)).toBeGreaterThanOrEqual(2);
  });

  test('running out of storage quota rolls the import back with a clear message', async ({ page, baseURL }, testInfo) => {
    await openDatasets(page);
    // Chromium's DevTools protocol can lower this origin's quota: 8 MB, the val JPEGs need 23 MB.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin, quotaSize: 8_000_000 });
    await page.getByTestId('wider-folder-input').setInputFiles(WIDER_DIR());
    await page.getByTestId('split-train-enabled').uncheck();
    await page.getByTestId('wider-import').click();
    const note = page.getByTestId('import-error');
    await expect(note).toBeVisible({ timeout: 120_000 });
    await expect(note).toHaveAttribute('data-code', 'STORAGE_QUOTA');
    await expect(note).toContainText('could not be stored in the browser');
    await expect(page.getByTestId('dataset-empty')).toBeVisible();
    expect(await datasetStoreCounts(page)).toEqual({ datasets: 0, datasetImages: 0, datasetBlobs: 0 });
    await screenshot(page, testInfo, 'quota');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin });
  });

  test.describe('official zips', () => {
    let zips: WiderZips;
    test.beforeAll(() => {
      zips = buildWiderZips();
    });
    test.afterAll(() => zips?.cleanup());

    test('imports the four official zips, a second import changes nothing', async ({ page }, testInfo) => {
      await openDatasets(page);
      await page.getByTestId('wider-files-input').setInputFiles([zips.train, zips.val, zips.split, zips.evalTools]);
      await expect(page.getByTestId('wider-source')).toHaveCount(4);
      await expect(page.getByTestId('split-train-annotated')).toHaveText('400');
      await expect(page.getByTestId('split-val-gt')).toContainText('3,226 val images');
      await screenshot(page, testInfo, 'zips-inspected');
      await page.getByTestId('wider-import').click();
      await expect(page.getByTestId('import-outcome')).toBeVisible({ timeout: 120_000 });
      await expectDataset(page, 'train', SHARED_COUNTS.train.images, SHARED_COUNTS.train.faces);
      await expectDataset(page, 'val', SHARED_COUNTS.val.images, SHARED_COUNTS.val.faces);
      const first = await datasetStoreCounts(page);
      expect(first).toEqual({ datasets: 2, datasetImages: 600, datasetBlobs: 600 });

      // The same files again (zips or the unpacked folders): same content ⇒ same dataset ids, no duplicate.
      await page.getByTestId('wider-files-input').setInputFiles([zips.train, zips.val, zips.split, zips.evalTools]);
      await page.getByTestId('wider-import').click();
      await expect(page.getByTestId('import-outcome').locator('[data-status="unchanged"]')).toHaveCount(2);
      await page.getByTestId('wider-folder-input').setInputFiles(WIDER_DIR());
      await page.getByTestId('wider-import').click();
      await expect(page.getByTestId('import-outcome').locator('[data-status="unchanged"]')).toHaveCount(2);
      await expect(page.getByTestId('dataset-row')).toHaveCount(2);
      expect(await datasetStoreCounts(page)).toEqual(first);
    });

    test('zips dropped on the import zone are read like picked ones', async ({ page }) => {
      await openDatasets(page);
      await dropFiles(page, 'wider-drop', [fileFromDisk(zips.split, 'application/zip'), fileFromDisk(zips.evalTools, 'application/zip')]);
      await expect(page.getByTestId('wider-source')).toHaveCount(2);
      await expect(page.getByTestId('split-val-annotated')).toHaveText('200');
      await expect(page.getByTestId('split-val-gt')).toContainText('3,226 val images');
      // The annotation lists alone hold no image: nothing to import yet.
      await expect(page.getByTestId('split-val-no-images')).toBeVisible();
      await expect(page.getByTestId('wider-import')).toBeDisabled();
    });

    test('a subset per split is seeded and stratified; cancelling leaves nothing', async ({ page }, testInfo) => {
      await openDatasets(page);
      await page.getByTestId('wider-files-input').setInputFiles([zips.train, zips.val, zips.split, zips.evalTools]);
      await page.getByTestId('split-train-size').fill('50');
      await page.getByTestId('split-val-size').fill('20');
      await page.getByTestId('wider-import').click();
      await expect(page.getByTestId('import-outcome')).toBeVisible({ timeout: 120_000 });
      await expect(datasetRow(page, 'train').getByTestId('dataset-images')).toHaveText('50');
      await expect(datasetRow(page, 'val').getByTestId('dataset-images')).toHaveText('20');
      // Stratified: every one of the 5 val events keeps images.
      await expect(datasetRow(page, 'val')).toContainText('5 events');
      await screenshot(page, testInfo, 'subset');

      // Cancel an import of everything mid-way: no dataset, no image left behind.
      const before = await datasetStoreCounts(page);
      await page.getByTestId('wider-files-input').setInputFiles([zips.train, zips.split]);
      await page.getByTestId('split-train-size').fill('all');
      await page.getByTestId('wider-import').click();
      const progress = page.getByTestId('import-progress');
      await expect.poll(async () => Number(await progress.getAttribute('data-value')), { timeout: 60_000 }).toBeGreaterThan(0);
      await page.getByTestId('wider-cancel').click();
      await expect(page.getByTestId('import-cancelled')).toBeVisible();
      await expect(page.getByTestId('dataset-row')).toHaveCount(2);
      expect(await datasetStoreCounts(page)).toEqual(before);
    });
  });
});

test.describe('WIDER FACE bad inputs: a clear error, nothing imported', () => {
  let dir: string;
  let zips: { val: string; evalTools: string };
  const valText = () => sharedValAnnotation();
  const splitZip = (name: string, text: string) => writeZip(join(dir, name), 'wider_face_split.zip', { 'wider_face_split/wider_face_val_bbx_gt.txt': new TextEncoder().encode(text) });

  test.beforeAll(() => {
    if (!HAS_SHARED) return;
    dir = mkdtempSync(join(tmpdir(), 'bfpgm-e2e-bad-'));
    zips = {
      val: writeZip(dir, 'WIDER_val.zip', sharedEntries('WIDER_val')),
      evalTools: writeZip(dir, 'eval_tools.zip', sharedEntries('eval_tools')),
    };
  });
  test.afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));
  test.beforeEach(() => requireShared());

  interface Case {
    name: string;
    files: () => string[];
    /** Found when the files are read (before Import can be pressed), or only by the import. */
    when: 'inspect' | 'import';
    code: string;
    message: RegExp;
  }

  const CASES: Case[] = [
    {
      name: 'an annotation list with a wrong count line',
      files: () => [zips.val, splitZip('count', valText().replace(/^126$/m, '125'))],
      when: 'inspect',
      code: 'DATASET_FORMAT',
      message: /wider_face_split\/wider_face_val_bbx_gt\.txt in wider_face_split\.zip, line 128: expected an image path/,
    },
    {
      name: 'a non-numeric field',
      files: () => [zips.val, splitZip('field', valText().replace(/^345 211 4 4 2 0 0 0 2 0/m, '345 211 four 4 2 0 0 0 2 0'))],
      when: 'inspect',
      code: 'DATASET_FORMAT',
      message: /line 3: field 3 \(w\) is not an integer: "four"/,
    },
    {
      name: 'a listed image without its JPEG',
      files: () => [zips.val, splitZip('missing', `${valText()}0--Parade/0_Parade_Parade_0_999999.jpg\n1\n10 10 20 20 0 0 0 0 0 0\n`)],
      when: 'import',
      code: 'DATASET_FORMAT',
      message: /1 image\(s\) listed in .*wider_face_val_bbx_gt\.txt.* are not among the chosen files, e\.g\. WIDER_val\/images\/0--Parade\/0_Parade_Parade_0_999999\.jpg/,
    },
    {
      name: 'a corrupt (truncated) JPEG, found after earlier batches were written',
      files: () => {
        const entries = sharedEntries('WIDER_val');
        const last = Object.keys(entries).sort().pop()!;
        entries[last] = entries[last]!.subarray(0, entries[last]!.length >> 1);
        return [writeZip(join(dir, 'corrupt'), 'WIDER_val.zip', entries), splitZip('ok', valText())];
      },
      when: 'import',
      code: 'IMAGE_DECODE',
      message: /WIDER_val\/images\/4--Dancing\/.*\.jpg is not a valid JPEG: the end-of-image marker is missing/,
    },
    {
      name: 'a truncated .mat file',
      files: () => {
        const mats = sharedEntries('eval_tools');
        const hard = 'eval_tools/ground_truth/wider_hard_val.mat';
        mats[hard] = mats[hard]!.subarray(0, 5000);
        return [zips.val, splitZip('ok', valText()), writeZip(join(dir, 'mat'), 'eval_tools.zip', mats)];
      },
      when: 'inspect',
      code: 'MAT_FORMAT',
      message: /wider_hard_val\.mat/,
    },
    {
      name: 'a zip that is not WIDER FACE',
      files: () => [writeZip(join(dir, 'other'), 'holiday-photos.zip', { 'photos/beach.jpg': new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'readme.txt': new Uint8Array([104, 105]) })],
      when: 'inspect',
      code: 'DATASET_FORMAT',
      message: /holiday-photos\.zip holds no WIDER FACE files/,
    },
  ];

  test('a rejected file does not stick: the next pick is read without it', async ({ page }) => {
    await openDatasets(page);
    await page.getByTestId('wider-files-input').setInputFiles(CASES.at(-1)!.files());
    await expect(page.getByTestId('import-error')).toBeVisible();
    await page.getByTestId('wider-files-input').setInputFiles([zips.val, splitZip('ok', valText())]);
    await expect(page.getByTestId('wider-inspection')).toBeVisible();
    await expect(page.getByTestId('import-error')).toHaveCount(0);
    await expect(page.getByTestId('wider-source')).toHaveCount(2);
    await expect(page.getByTestId('split-val-annotated')).toHaveText('200');
  });

  for (const c of CASES) {
    test(c.name, async ({ page }, testInfo) => {
      await openDatasets(page);
      await page.getByTestId('wider-files-input').setInputFiles(c.files());
      if (c.when === 'import') {
        await expect(page.getByTestId('wider-inspection')).toBeVisible();
        await page.getByTestId('wider-import').click();
      }
      const note = page.getByTestId('import-error');
      await expect(note).toBeVisible({ timeout: 60_000 });
      await expect(note).toHaveAttribute('data-code', c.code);
      await expect(note).toContainText(c.message);
      await expect(note).toContainText('Nothing was imported');
      if (c.when === 'inspect') await expect(page.getByTestId('wider-import')).toHaveCount(0);
      await expect(page.getByTestId('dataset-empty')).toBeVisible();
      expect(await datasetStoreCounts(page)).toEqual({ datasets: 0, datasetImages: 0, datasetBlobs: 0 });
      await screenshot(page, testInfo, 'error');
      // The import panel with its findings and an error note stays accessible.
      if (c.when === 'import') expect(await seriousViolations(page)).toEqual([]);
    });
  }
});
