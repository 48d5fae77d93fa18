/**
 * Issue 13: on every page, at a phone, a small laptop and a desktop size, with a stored model whose name is
 * long, every visible control fits its panel and the window and none overlaps or hides another.
 */
import { expect, test } from '@playwright/test';
import { goTo, layoutProblems, loadLongNamedModel, ROUTES, seedPausedRun, type LayoutProblem } from './layout-support.ts';
import { loadOriginalModel, openStudio, requireShared } from './support.ts';

const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];

test.describe('layout on every page', () => {
  test.beforeEach(() => requireShared());

  for (const size of SIZES) {
    test(`controls fit and do not overlap at ${size.width}×${size.height}`, async ({ page }) => {
      await page.setViewportSize(size);
      await openStudio(page, '?backend=wasm');
      // Two stored models: the long-named one in use, the original with its "Use" and "✕" buttons.
      await loadOriginalModel(page);
      await loadLongNamedModel(page);
      await expect(page.getByTestId('stored-model')).toHaveCount(2);
      // A paused run with trials, so the Pipeline page lays out its dashboard and trial table too.
      await seedPausedRun(page);

      const problems: Array<LayoutProblem & { route: string }> = [];
      for (const route of ROUTES) {
        await goTo(page, route);
        // Pages fill in from IndexedDB and the worker; let them settle before measuring.
        await page.waitForLoadState('networkidle');
        await page.waitForTimeout(300);
        problems.push(...(await layoutProblems(page)).map((p) => ({ route, ...p })));
      }
      expect(problems).toEqual([]);
    });
  }
});
