/**
 * Two tabs (pages of one browser context, so they share IndexedDB and Web Locks) importing the same
 * WIDER subset. The test holds the import lock itself so both imports are queued behind it in a known
 * order, then lets them run:
 * - the race of the issue: the second tab must see the first tab's committed dataset (the check runs
 *   inside the lock) instead of rewriting its images — and, cancelled, deleting them;
 * - a cancel: the first tab cancels mid-import, the second then imports, and its dataset is whole.
 */
import { expect, test, type Page } from '@playwright/test';
import { requireShared } from './support.ts';
import { buildWiderZips, datasetRow, datasetStoreCounts, expectDataset, openDatasets, SHARED_COUNTS, type WiderZips } from './wider-support.ts';

const LOCK = 'bfpgm-wider-import';

/** Holds the import lock from the page's main thread until `releaseImportLock` runs. */
async function holdImportLock(page: Page): Promise<void> {
  await page.evaluate(
    (name) =>
      new Promise<void>((held) => {
        void navigator.locks.request(name, () => {
          held();
          return new Promise<void>((release) => {
            (window as unknown as { releaseImportLock: () => void }).releaseImportLock = release;
          });
        });
      }),
    LOCK,
  );
}

const releaseImportLock = (page: Page) => page.evaluate(() => (window as unknown as { releaseImportLock: () => void }).releaseImportLock());

/** Requests for the import lock waiting anywhere in the origin (both tabs' import workers). */
const pendingImports = (page: Page) => page.evaluate(async (name) => ((await navigator.locks.query()).pending ?? []).filter((l) => l.name === name).length, LOCK);

async function startImport(page: Page, files: string[], queuedBefore: number, holder: Page): Promise<void> {
  await page.getByTestId('wider-files-input').setInputFiles(files);
  await expect(page.getByTestId('wider-inspection')).toBeVisible();
  await page.getByTestId('wider-import').click();
  await expect.poll(() => pendingImports(holder), { timeout: 60_000 }).toBe(queuedBefore + 1);
}

/** Images written so far by a page's running import (0 while it waits or prepares). */
const progressOf = async (page: Page) => Number((await page.getByTestId('import-progress').getAttribute('data-value', { timeout: 1000 }).catch(() => null)) ?? 0);

/** Every stored image of the page's `split` dataset decodes (opens the browser on its first thumbnail). */
async function expectThumbnailDecodes(page: Page, split: 'train' | 'val'): Promise<void> {
  await datasetRow(page, split).getByTestId('dataset-open').click();
  const thumb = page.getByTestId('dataset-browser').getByTestId('browser-thumb').first();
  await expect(thumb.locator('img')).toHaveJSProperty('complete', true);
  expect(await thumb.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
}

test.describe('WIDER FACE import in two tabs', () => {
  let zips: WiderZips;
  test.beforeAll(() => {
    requireShared();
    zips = buildWiderZips();
  });
  test.afterAll(() => zips?.cleanup());
  test.beforeEach(() => requireShared());

  test('the same subset from two tabs: one dataset, never overwritten; a cancel in one tab leaves the other whole', async ({ context }) => {
    test.setTimeout(600_000);
    const a = await context.newPage();
    const b = await context.newPage();
    await openDatasets(a);
    await openDatasets(b);

    // 1. Both tabs import val; A runs first. B decided nothing before the lock: A's commit makes it "unchanged".
    await holdImportLock(a);
    const val = [zips.val, zips.split, zips.evalTools];
    await startImport(a, val, 0, a);
    await startImport(b, val, 1, a);
    await releaseImportLock(a);
    await expect(a.getByTestId('import-outcome').locator('[data-status="imported"]')).toHaveCount(1, { timeout: 120_000 });
    // Were B to write the same images again (the race), cancelling it would delete A's images: do so if it ever writes.
    let bWrote = false;
    for (const deadline = Date.now() + 120_000; ; await b.waitForTimeout(250)) {
      if (await b.getByTestId('import-outcome').isVisible()) break;
      if (bWrote && (await b.getByTestId('import-cancelled').isVisible())) break;
      if (!bWrote && (await progressOf(b)) > 0) {
        bWrote = true;
        await b.getByTestId('wider-cancel').click().catch(() => {});
      }
      if (Date.now() > deadline) throw new Error('the second tab neither finished nor wrote');
    }
    expect(await datasetStoreCounts(b)).toEqual({ datasets: 1, datasetImages: SHARED_COUNTS.val.images, datasetBlobs: SHARED_COUNTS.val.images });
    expect(bWrote, "the second tab rewrote the first tab's images").toBe(false);
    await expect(b.getByTestId('import-outcome').locator('[data-status="unchanged"]')).toHaveCount(1);
    for (const page of [a, b]) {
      await page.reload();
      await expect(page.getByTestId('dataset-list')).toBeVisible();
      await expectDataset(page, 'val', SHARED_COUNTS.val.images, SHARED_COUNTS.val.faces);
    }
    await expectThumbnailDecodes(b, 'val');

    // 2. Both tabs import train; A cancels while writing, B then imports it whole; val is untouched.
    await holdImportLock(a);
    const train = [zips.train, zips.split];
    await startImport(a, train, 0, a);
    await startImport(b, train, 1, a);
    await releaseImportLock(a);
    await expect.poll(() => progressOf(a), { timeout: 60_000 }).toBeGreaterThan(0);
    await a.getByTestId('wider-cancel').click();
    await expect(a.getByTestId('import-cancelled')).toBeVisible({ timeout: 60_000 });
    await expect(b.getByTestId('import-outcome').locator('[data-status="imported"]')).toHaveCount(1, { timeout: 120_000 });
    expect(await datasetStoreCounts(a)).toEqual({
      datasets: 2,
      datasetImages: SHARED_COUNTS.train.images + SHARED_COUNTS.val.images,
      datasetBlobs: SHARED_COUNTS.train.images + SHARED_COUNTS.val.images,
    });
    for (const page of [a, b]) {
      await page.reload();
      await expect(page.getByTestId('dataset-list')).toBeVisible();
      await expectDataset(page, 'train', SHARED_COUNTS.train.images, SHARED_COUNTS.train.faces);
      await expectDataset(page, 'val', SHARED_COUNTS.val.images, SHARED_COUNTS.val.faces);
    }
    await expectThumbnailDecodes(a, 'train');
  });
});
