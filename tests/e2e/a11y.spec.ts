/**
 * Accessibility: no serious or critical axe violations on the main page (empty, with a model + image)
 * and on the empty datasets and evaluation pages. The populated dataset browser and evaluation results
 * are checked in dataset.spec.ts and evaluate.spec.ts.
 */
import { expect, test } from '@playwright/test';
import { HAS_SHARED } from '../helpers/shared.ts';
import { detectAstronaut, loadOriginalModel, openStudio, seriousViolations } from './support.ts';

test.describe('accessibility', () => {
  test('main page has no serious or critical violations', async ({ page }) => {
    await openStudio(page);
    expect(await seriousViolations(page)).toEqual([]);
  });

  test('datasets and evaluation pages have no serious or critical violations', async ({ page }) => {
    await openStudio(page, '#datasets');
    await expect(page.getByTestId('dataset-empty')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('nav-evaluate').click();
    await expect(page.getByTestId('eval-no-dataset')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });

  test('loaded model and detection have no serious or critical violations', async ({ page }) => {
    test.skip(!HAS_SHARED, 'needs ../shared');
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await detectAstronaut(page);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('tab-webcam').click();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
