/**
 * The B-FPGM pipeline in the browser (WASM, tiny budget): the demo path — original model + a WIDER
 * subset → 2 + 2 BO trials (plus the probe) → SFP → fine-tune → AP before/after → the pruned model in
 * the zoo with its AP → exported .pth read back by the core's reader, sparsity in the target band;
 * and a run reloaded in the middle of its search resumes with its finished trials kept.
 */
import { expect, test } from '@playwright/test';
// The core's own reader (Node side), imported by module: the index would pull every backend kernel.
import { readCheckpoint } from '../../src/core/checkpoint/index.ts';
import { describeModel } from '../../src/core/prune/describe-model.ts';
import { openStudio, requireShared, screenshot, seriousViolations } from './support.ts';
import { downloadBytes, fillFields, prepareStudio, recordMinCount, runStoreCounts, trialRows } from './pipeline-support.ts';

const TARGET = 0.3;

test.describe('B-FPGM pipeline', () => {
  test.beforeEach(() => requireShared());

  test('demo path: tiny pipeline, trial table, pruned model in the zoo with its AP, exported .pth in the target band', async ({ page }, testInfo) => {
    test.setTimeout(900_000);
    await prepareStudio(page, { train: 16, val: 4 });

    await page.getByTestId('nav-pipeline').click();
    await expect(page.getByTestId('pipeline-backend')).toHaveText('wasm');
    await expect(page.getByTestId('pipeline-model')).toContainText('EResFD-original.pth');
    await expect(page.getByTestId('pipeline-dataset')).toContainText('16 of 400 images');
    await expect(page.getByTestId('pipeline-val-dataset')).toHaveValue(/.+/);
    expect(await seriousViolations(page)).toEqual([]);

    // The reference preset fills the paper's budget; the laptop one is editable down to a smoke test.
    await page.getByTestId('pipeline-preset-reference').check();
    await expect(page.getByTestId('pipeline-bo-iter')).toHaveValue('940');
    await page.getByTestId('pipeline-preset-laptop').check();
    await fillFields(page, {
      'pipeline-target': 100 * TARGET, 'pipeline-bo-init': 2, 'pipeline-bo-iter': 2, 'pipeline-images': 16, 'pipeline-size': 320,
      'pipeline-batch': 8, 'pipeline-sfp-epochs': 1, 'pipeline-sfp-every': 1, 'pipeline-ft-epochs': 1, 'pipeline-eval-images': 4,
    });
    // An invalid budget cannot start.
    await page.getByTestId('pipeline-images').fill('1');
    await expect(page.getByTestId('pipeline-invalid')).toContainText('data.images');
    await expect(page.getByTestId('pipeline-start')).toBeDisabled();
    await page.getByTestId('pipeline-images').fill('16');
    await expect(page.getByTestId('pipeline-invalid')).toHaveCount(0);

    // Duration estimate from a measured warm-up.
    await page.getByTestId('pipeline-measure').click();
    await expect(page.getByTestId('pipeline-estimate-value')).toBeVisible({ timeout: 120_000 });
    expect(Number(await page.getByTestId('pipeline-estimate-value').getAttribute('data-seconds'))).toBeGreaterThan(0);

    await page.getByTestId('pipeline-start').click();
    const run = page.getByTestId('pipeline-run');
    await expect(run).toHaveAttribute('data-status', 'running');
    await expect(page.getByTestId('stage-bo')).toHaveAttribute('data-status', 'current');
    await expect(page.getByTestId('stage-progress')).toBeVisible();
    await expect(page.getByTestId('pipeline-run-backend')).toHaveText('wasm');
    // The trial table fills while the search runs.
    await expect(trialRows(page).first()).toBeVisible({ timeout: 300_000 });
    await screenshot(page, testInfo, 'pipeline-bo-running');
    await expect(trialRows(page)).toHaveCount(5, { timeout: 400_000 });
    await expect(run).toHaveAttribute('data-status', 'done', { timeout: 400_000 });
    for (const stage of ['bo', 'sfp', 'finetune', 'evaluate', 'export']) await expect(page.getByTestId(`stage-${stage}`)).toHaveAttribute('data-status', 'done');

    // Trials: the probe first; skipped ones marked; the best one trained and inside the band.
    const rows = await trialRows(page).evaluateAll((n) => n.map((e) => ({ ...(e as HTMLElement).dataset })));
    expect(rows.map((r) => r.index)).toEqual(['0', '1', '2', '3', '4']);
    for (const r of rows) {
      if (r.skipped === 'true') expect(Math.abs(Number(r.sparsity) - TARGET)).toBeGreaterThanOrEqual(0.04);
      else expect(Number(r.objective)).toBeGreaterThan(-500);
    }
    await expect(page.getByTestId('objective-chart')).toHaveAttribute('data-trials', '5');
    await expect(page.getByTestId('heat-cell')).toHaveCount(5 * 6);
    await expect(page.getByTestId('band-point')).toHaveCount(5);
    await expect(page.getByTestId('result-ap-before')).toBeVisible();
    await expect(page.getByTestId('result-ap-after')).toBeVisible();
    await expect(page.getByTestId('epoch-row')).toHaveCount(2);
    const sparsity = Number(await page.getByTestId('result-sparsity').getAttribute('data-value'));
    expect(Math.abs(sparsity - TARGET)).toBeLessThan(0.04);

    await screenshot(page, testInfo, 'pipeline-done');
    expect(await seriousViolations(page)).toEqual([]);

    // "Apply best rates" puts the best trial's rates into the rate editor: the ones it trained (projected onto the target).
    const best = rows.reduce((a, b) => (Number(b.objective) > Number(a.objective) ? b : a));
    await page.getByTestId('bo-apply-best').click();
    await expect(page.getByTestId('bo-applied')).toBeVisible();
    await page.getByTestId('nav-prune').click();
    await expect(page.getByTestId('rate-input')).toHaveCount(6);
    const editor = (await page.getByTestId('rate-input').evaluateAll((n) => n.map((e) => Number((e as HTMLInputElement).value))));
    best.rates!.split(',').map(Number).forEach((r, i) => expect(Math.abs(editor[i]! - 100 * r)).toBeLessThan(0.051));
    await page.getByTestId('nav-pipeline').click();

    // Records export.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pipeline-download-trials').click()]);
    const csvText = new TextDecoder().decode(await downloadBytes(csv, testInfo.outputPath('trials.csv')));
    expect(csvText.trim().split('\n')).toHaveLength(6);
    expect(csvText.split('\n')[0]).toContain('rate_stem');

    // The zoo lists the pruned model with the run's AP.
    await page.getByTestId('nav-zoo').click();
    const pruned = page.locator('[data-testid="zoo-row"][data-kind="pruned"]');
    await expect(pruned).toHaveCount(1);
    await expect(page.locator('[data-testid="zoo-row"][data-kind="imported"]')).toHaveCount(1);
    // Short default name (issue 13): what, target, when.
    await expect(pruned).toHaveAttribute('data-name', /^B-FPGM 30% · \d{1,2} [A-Z][a-z]{2} \d{2}:\d{2}$/);
    for (const s of ['easy', 'medium', 'hard']) {
      const ap = Number(await pruned.getByTestId(`zoo-ap-${s}`).getAttribute('data-value'));
      expect(ap).toBeGreaterThanOrEqual(0);
      expect(ap).toBeLessThanOrEqual(1);
    }
    expect(Number(await pruned.getByTestId('zoo-sparsity').getAttribute('data-value'))).toBeCloseTo(100 * sparsity, 6);
    await pruned.getByTestId('zoo-measure').click();
    await expect(pruned.getByTestId('zoo-ms')).toHaveText(/\d+(\.\d+)? (ms|s)$/, { timeout: 120_000 });
    await screenshot(page, testInfo, 'zoo');
    expect(await seriousViolations(page)).toEqual([]);

    // Export: the downloaded file is a checkpoint the core reads, with the run's sparsity.
    const [download] = await Promise.all([page.waitForEvent('download'), pruned.getByTestId('zoo-download').click()]);
    // The file name carries the model's content hash: two runs never share one.
    const modelId = (await pruned.getAttribute('data-model-id'))!;
    expect(download.suggestedFilename()).toMatch(new RegExp(`^B-FPGM-30pct-\\d{1,2}-[A-Z][a-z]{2}-\\d{2}-\\d{2}-${modelId.slice(0, 8)}\\.pth$`));
    const bytes = await downloadBytes(download, testInfo.outputPath('pruned.pth'));
    const info = describeModel(readCheckpoint(bytes).stateDict);
    expect(info.parameters).toBe(92_208);
    expect(Math.abs(info.sparsity / 100 - TARGET)).toBeLessThan(0.04);
    expect(info.sparsity / 100).toBeCloseTo(sparsity, 6);

    // A finished run keeps only its final weights.
    expect(await runStoreCounts(page)).toEqual({ runs: 1, runWeights: 1 });
  });

  test('a run reloaded in the middle of the search resumes with its finished trials; pause and cancel', async ({ page }, testInfo) => {
    test.setTimeout(600_000);
    await prepareStudio(page, { train: 10, val: 0 });
    await page.getByTestId('nav-pipeline').click();
    await expect(page.getByTestId('pipeline-backend')).toHaveText('wasm');
    await fillFields(page, {
      'pipeline-target': 30, 'pipeline-bo-init': 4, 'pipeline-bo-iter': 4, 'pipeline-images': 10, 'pipeline-size': 160,
      'pipeline-batch': 4, 'pipeline-sfp-epochs': 1, 'pipeline-ft-epochs': 1, 'pipeline-eval-images': 0,
    });
    await page.getByTestId('pipeline-start').click();
    await expect(trialRows(page)).toHaveCount(2, { timeout: 300_000 });
    const before = await trialRows(page).evaluateAll((n) => n.slice(0, 2).map((e) => (e as HTMLElement).dataset.objective));

    // Reload = the worker is killed mid-search.
    await page.reload();
    await page.getByTestId('nav-pipeline').click();
    const run = page.getByTestId('pipeline-run');
    await expect(run).toHaveAttribute('data-status', /interrupted|elsewhere/);
    await expect(run).toHaveAttribute('data-stage', 'bo');
    const kept = await trialRows(page).count();
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(await trialRows(page).evaluateAll((n) => n.slice(0, 2).map((e) => (e as HTMLElement).dataset.objective))).toEqual(before);
    await screenshot(page, testInfo, 'pipeline-interrupted');
    expect(await seriousViolations(page)).toEqual([]);

    // Resumed, not restarted: the table never drops below the trials kept (a fresh run would start empty).
    const minRows = await recordMinCount(page, 'trial-row');
    await page.getByTestId('pipeline-resume').click();
    await expect(run).toHaveAttribute('data-status', 'running');
    await expect.poll(() => trialRows(page).count(), { timeout: 300_000 }).toBeGreaterThan(kept);
    expect(await minRows()).toBe(kept);
    // The earlier trials are unchanged and numbered on.
    expect(await trialRows(page).evaluateAll((n) => n.slice(0, 2).map((e) => (e as HTMLElement).dataset.objective))).toEqual(before);
    const indices = await trialRows(page).evaluateAll((n) => n.map((e) => Number((e as HTMLElement).dataset.index)));
    expect(indices).toEqual(Array.from({ length: indices.length }, (_, i) => i));

    await page.getByTestId('pipeline-pause').click();
    await expect(run).toHaveAttribute('data-status', 'paused', { timeout: 120_000 });
    await expect(page.getByTestId('pipeline-note')).toContainText('Paused');
    const paused = await trialRows(page).count();
    await page.waitForTimeout(1500);
    expect(await trialRows(page).count()).toBe(paused);

    // Deleting asks once more (issue 13).
    await page.getByTestId('pipeline-cancel').click();
    await expect(page.getByTestId('pipeline-cancel')).toHaveAttribute('data-asking', 'true');
    await page.getByTestId('pipeline-cancel').click();
    await expect(page.getByTestId('pipeline-runs-empty')).toBeVisible();
    await expect(page.getByTestId('pipeline-run')).toHaveCount(0);
    expect(await runStoreCounts(page)).toEqual({ runs: 0, runWeights: 0 });
  });
});

test.describe('pipeline, training and zoo pages (empty)', () => {
  test('say what is missing and have no serious or critical axe violations', async ({ page }) => {
    await openStudio(page, '?backend=wasm#pipeline');
    await expect(page.getByTestId('pipeline-no-model')).toBeVisible();
    await expect(page.getByTestId('pipeline-no-dataset')).toBeVisible();
    await expect(page.getByTestId('pipeline-start')).toBeDisabled();
    await expect(page.getByTestId('pipeline-backend')).toHaveText('wasm');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('nav-train').click();
    await expect(page.getByTestId('train-no-model')).toBeVisible();
    await expect(page.getByTestId('train-start')).toBeDisabled();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('nav-zoo').click();
    await expect(page.getByTestId('zoo-empty')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
