/**
 * WIDER evaluation in the browser: the original model on a 10-image val subset (WASM for speed),
 * single protocol → AP table, PR curves, per-image TP/FP/missed view; cancelling a run stores nothing.
 */
import { expect, test, type Page } from '@playwright/test';
import { loadOriginalModel, requireShared, screenshot, seriousViolations } from './support.ts';
import { WIDER_DIR, datasetRow, openDatasets } from './wider-support.ts';

const VAL_SUBSET = 10;

/** Imports `VAL_SUBSET` val images (with the .mat ground truth) from the shared folder. */
async function importValSubset(page: Page): Promise<void> {
  await page.getByTestId('wider-folder-input').setInputFiles(WIDER_DIR());
  await page.getByTestId('split-train-enabled').uncheck();
  await page.getByTestId('split-val-size').fill(String(VAL_SUBSET));
  await page.getByTestId('wider-import').click();
  await expect(datasetRow(page, 'val').getByTestId('dataset-images')).toHaveText(String(VAL_SUBSET), { timeout: 120_000 });
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
}

test.describe('WIDER evaluation', () => {
  test.beforeEach(() => requireShared());

  test('evaluates the original model on a val subset: AP table, PR curves, per-image view', async ({ page }, testInfo) => {
    test.setTimeout(300_000);
    await openDatasets(page, '?backend=wasm');
    await importValSubset(page);

    await page.getByTestId('nav-evaluate').click();
    await loadOriginalModel(page);
    await expect(page.getByTestId('eval-dataset')).toContainText(`${VAL_SUBSET} of 200 images`);
    await page.getByTestId('eval-protocol-single').check();
    await page.getByTestId('eval-run').click();
    await expect(page.getByTestId('eval-progress')).toBeVisible();
    const row = page.getByTestId('ap-row');
    await expect(row).toHaveCount(1, { timeout: 240_000 });
    await expect(row.getByTestId('ap-images')).toHaveText(String(VAL_SUBSET));
    await expect(row.getByTestId('ap-protocol')).toHaveText('single pass');
    const ap = Object.fromEntries(
      await Promise.all((['easy', 'medium', 'hard'] as const).map(async (s) => [s, Number(await row.getByTestId(`ap-${s}`).getAttribute('data-value'))] as const)),
    );
    for (const s of ['easy', 'medium', 'hard'] as const) {
      expect(ap[s]).toBeGreaterThan(0);
      expect(ap[s]).toBeLessThanOrEqual(1);
    }
    // EResFD finds big faces better than tiny ones.
    expect(ap.easy).toBeGreaterThan(ap.hard);

    // PR curves: three polylines with points inside the plot.
    const curves = page.getByTestId('pr-curve');
    await expect(curves).toHaveCount(3);
    for (const points of await curves.evaluateAll((n) => n.map((e) => e.getAttribute('points') ?? ''))) {
      expect(points.split(' ').length).toBeGreaterThan(10);
    }

    // Per-image view: boxes judged at the threshold; lowering it adds predictions.
    const stage = page.getByTestId('per-image-stage');
    await expect(stage.locator('img')).toHaveJSProperty('complete', true);
    const legend = page.getByTestId('per-image-legend');
    const count = async (kind: string) => Number(await legend.locator(`[data-kind="${kind}"]`).getAttribute('data-count'));
    await page.getByTestId('per-image-setting-hard').check();
    await expect(legend).toBeVisible();
    const drawn = async () => stage.getByTestId('annotated-box').count();
    const atHalf = { tp: await count('tp'), fp: await count('fp'), missed: await count('missed'), boxes: await drawn() };
    expect(atHalf.tp + atHalf.missed).toBeGreaterThan(0);
    await page.getByTestId('per-image-threshold').fill('0.1');
    await expect.poll(async () => (await count('tp')) + (await count('fp')) + (await count('ignored'))).toBeGreaterThanOrEqual(atHalf.tp + atHalf.fp);
    expect(await count('tp')).toBeGreaterThanOrEqual(atHalf.tp);
    expect(await count('missed')).toBeLessThanOrEqual(atHalf.missed);
    await page.getByTestId('per-image-threshold').fill('0.5');
    await page.getByTestId('per-image-next').click();
    await expect(page.getByTestId('per-image-select')).toHaveValue('1');
    await screenshot(page, testInfo, 'evaluation');
    expect(await seriousViolations(page)).toEqual([]);

    // The results survive a reload (IndexedDB).
    await page.reload();
    await expect(page.getByTestId('ap-row')).toHaveCount(1);
    await expect(page.getByTestId('ap-easy')).toHaveAttribute('data-value', String(ap.easy));

    // Cancelling a full-protocol run stores nothing.
    await expect(page.getByTestId('model-parameters')).toHaveText('92,208');
    await page.getByTestId('eval-protocol-full').check();
    await page.getByTestId('eval-run').click();
    const progress = page.getByTestId('eval-progress');
    await expect(progress).toBeVisible();
    await page.getByTestId('eval-cancel').click();
    await expect(page.getByTestId('eval-cancelled')).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('ap-row')).toHaveCount(1);
    await expect(page.getByTestId('eval-run')).toBeEnabled();
  });
});
