/**
 * Teaching mode (issue 6 item 6): the walkthrough steps forward and back by buttons and keys, and each
 * step shows live numbers of the loaded model — checked here against the same quantities computed from
 * the checkpoint (filter norms, FPGM distance sums through the core planner) — a live soft/hard pruning
 * run, and the core Bayesian optimiser probing a toy function. axe on every step.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createFpgmPlanner } from '../../src/core/index.ts';
import { readCheckpoint } from '../../src/core/checkpoint/read-checkpoint.ts';
import { loadOriginalModel, openStudio, ORIGINAL_PTH, requireShared, screenshot, seriousViolations } from './support.ts';

function checkpoint() {
  return readCheckpoint(new Uint8Array(readFileSync(ORIGINAL_PTH()))).stateDict;
}

test.describe('teaching mode', () => {
  test.beforeEach(() => requireShared());

  test('steps through with live numbers from the loaded model', async ({ page }, testInfo) => {
    const sd = checkpoint();
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await page.getByTestId('nav-learn').click();
    const content = page.getByTestId('teach-page');
    await expect(content).toHaveAttribute('data-step', '0');

    // 1. Filters: conv1's 8 real filters; the largest L2 norm is the checkpoint's.
    await expect(page.getByTestId('teach-heatmap')).toHaveAttribute('data-filters', '8');
    const w = sd.get('base.conv1.0.weight')!.data as Float32Array;
    const norms = Array.from({ length: 8 }, (_, f) => Math.hypot(...w.subarray(f * 75, (f + 1) * 75)));
    expect(Number(await page.getByTestId('teach-norm-max').getAttribute('data-value'))).toBeCloseTo(Math.max(...norms), 5);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, testInfo, 'teach-1-filters');

    // 2. Geometric median (keyboard: →): the smallest FPGM distance sum is the core planner's.
    await page.getByTestId('teach-step-title').focus();
    await page.keyboard.press('ArrowRight');
    await expect(content).toHaveAttribute('data-step', '1');
    await expect(page.getByTestId('teach-step-title')).toBeFocused();
    const scores = Array.from(createFpgmPlanner(sd).scores('base.m0.layer2.0.res_layer.0'));
    const min = Math.min(...scores);
    const minEl = page.getByTestId('teach-median-min');
    await expect(minEl).toHaveAttribute('data-filter', String(scores.indexOf(min)));
    expect(Number(await minEl.getAttribute('data-value'))).toBeCloseTo(min, 6);
    // 30 % of 16 filters: int(0.3·16) = 4 zeroed, the 4 smallest sums.
    const smallest = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, 4).map(([, i]) => `f${i}`);
    await expect(page.getByTestId('teach-median-chosen')).toHaveText(smallest.join(', '));
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, testInfo, 'teach-2-median');

    // 3. Soft vs hard: a live run in the worker; soft-pruned filters regrow, hard-masked ones stay 0.
    await page.getByTestId('teach-next').click();
    await expect(content).toHaveAttribute('data-step', '2');
    await page.getByTestId('teach-sh-run').click();
    const facts = page.getByTestId('teach-sh-facts');
    await expect(facts).toBeVisible({ timeout: 150_000 });
    expect(Number(await facts.getAttribute('data-soft'))).toBeGreaterThan(0);
    expect(Number(await facts.getAttribute('data-regrown'))).toBeGreaterThan(0);
    expect(Number(await facts.getAttribute('data-hard'))).toBe(0);
    await expect(page.getByTestId('teach-sh-soft')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, testInfo, 'teach-3-soft-hard');

    // 4. Bayesian optimiser: the first probe is random, then each probe refits the GP and asks UCB.
    await page.getByTestId('teach-next').click();
    await expect(content).toHaveAttribute('data-step', '3');
    const gp = page.getByTestId('teach-gp-facts');
    await expect(gp).toHaveAttribute('data-observations', '0');
    await expect(gp).toHaveAttribute('data-source', 'random');
    for (let n = 1; n <= 4; n++) {
      await page.getByTestId('teach-gp-probe').click();
      await expect(gp).toHaveAttribute('data-observations', String(n));
    }
    await expect(gp).toHaveAttribute('data-source', 'suggest');
    await expect(page.getByTestId('teach-gp-obs')).toHaveCount(4);
    const next = Number(await gp.getAttribute('data-next'));
    expect(next).toBeGreaterThanOrEqual(0);
    expect(next).toBeLessThanOrEqual(1);
    await expect(page.getByTestId('teach-next')).toBeDisabled();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, testInfo, 'teach-4-bayes');

    // Back by button and by key.
    await page.getByTestId('teach-back').click();
    await expect(content).toHaveAttribute('data-step', '2');
    await page.keyboard.press('ArrowLeft');
    await expect(content).toHaveAttribute('data-step', '1');
  });

  test('fits a narrow window on every step', async ({ page }, testInfo) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await page.getByTestId('nav-learn').click();
    await expect(page.getByTestId('teach-heatmap')).toBeVisible();
    for (let step = 0; step < 4; step++) {
      if (step > 0) await page.getByTestId('teach-next').click();
      await expect(page.getByTestId('teach-page')).toHaveAttribute('data-step', String(step));
      if (step === 3) await expect(page.getByTestId('teach-gp-chart')).toBeVisible();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `step ${step + 1}`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, testInfo, 'teach-narrow');
  });
});
