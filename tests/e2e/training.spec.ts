/**
 * Training in the pipeline worker (WASM): a 2-epoch run shows step progress (loss_l, loss_c,
 * images/s, ETA); pause stops it mid-epoch and resume continues; a reload in the middle of the second
 * epoch (the worker is killed) resumes from the first epoch's checkpoint — the finished epoch is kept
 * exactly, at most the epoch in progress is lost; cancel deletes a run with its checkpoints.
 */
import { expect, test } from '@playwright/test';
import { readCheckpoint } from '../../src/core/checkpoint/index.ts';
import { requireShared, screenshot, seriousViolations } from './support.ts';
import { downloadBytes, fillFields, prepareStudio, recordTexts, runStoreCounts } from './pipeline-support.ts';

test.describe('training in the browser', () => {
  test.beforeEach(() => requireShared());

  test('a 2-epoch run: pause/resume, reload mid-epoch resumes from the last epoch checkpoint, cancel deletes', async ({ page }, testInfo) => {
    test.setTimeout(600_000);
    // Batch preparation runs in its own worker beside the pipeline worker (issue 14).
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await prepareStudio(page, { train: 20, val: 0 });
    await page.getByTestId('nav-train').click();
    await expect(page.getByTestId('train-backend')).toHaveText('wasm');
    expect(await seriousViolations(page)).toEqual([]);
    // 20 images → 16 train / 4 val; batch 2 → 8 steps per epoch.
    await fillFields(page, { 'train-epochs': 2, 'train-images': 20, 'train-size': 128, 'train-batch': 2 });
    await page.getByTestId('train-start').click();

    const run = page.getByTestId('train-run');
    await expect(run).toHaveAttribute('data-status', 'running');
    await expect(page.getByTestId('train-step')).toHaveText(/^[1-7]\/8$/, { timeout: 120_000 });
    await expect(page.getByTestId('train-progress')).toContainText(/loss_l \d+\.\d{3} · loss_c \d+\.\d{3} · [\d.]+ img\/s · ETA/);
    expect(Number(await page.getByTestId('train-ips').textContent())).toBeGreaterThan(0);
    expect(workers.some((u) => /prep\.worker/.test(u)), workers.join(' ')).toBe(true);
    await screenshot(page, testInfo, 'training-running');

    // Pause mid-epoch: nothing is checkpointed yet; resume trains on.
    await page.getByTestId('train-pause').click();
    await expect(run).toHaveAttribute('data-status', 'paused', { timeout: 60_000 });
    await expect(run).toHaveAttribute('data-epochs-done', '0');
    await expect(page.getByTestId('train-note')).toContainText('Paused');
    await page.getByTestId('train-resume').click();
    await expect(run).toHaveAttribute('data-status', 'running');

    // First epoch done and checkpointed (validation loss shown); reload during the second.
    await expect(page.getByTestId('train-epoch-row')).toHaveCount(1, { timeout: 300_000 });
    const firstValLoss = await page.getByTestId('train-epoch-row').getAttribute('data-val-loss');
    expect(Number(firstValLoss)).toBeGreaterThan(0);
    await expect(page.getByTestId('train-progress')).toContainText(/epoch 2\/2 · step [1-7]\/8/, { timeout: 120_000 });
    await page.reload();
    await page.getByTestId('nav-train').click();
    await expect(run).toHaveAttribute('data-status', /interrupted|elsewhere/);
    await expect(run).toHaveAttribute('data-epochs-done', '1');
    await expect(page.getByTestId('train-epoch-row')).toHaveCount(1);
    await screenshot(page, testInfo, 'training-interrupted');
    expect(await seriousViolations(page)).toEqual([]);

    // The last epoch's checkpoint can be exported while interrupted.
    const [partial] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-download-pth').click()]);
    expect(readCheckpoint(await downloadBytes(partial, testInfo.outputPath('epoch1.pth'))).stateDict.size).toBeGreaterThan(0);

    const progress = await recordTexts(page, 'train-progress');
    await page.getByTestId('train-resume').click();
    await expect(run).toHaveAttribute('data-status', 'running');
    await expect(page.getByTestId('train-progress')).toContainText('epoch 2/2', { timeout: 120_000 });
    await expect(run).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
    // Resumed at epoch 2: the first epoch was never trained again.
    const texts = await progress();
    expect(texts.some((t) => t.includes('epoch 2/2 · step'))).toBe(true);
    expect(texts.filter((t) => t.includes('epoch 1/2'))).toEqual([]);
    const rows = page.getByTestId('train-epoch-row');
    await expect(rows).toHaveCount(2);
    expect(await rows.first().getAttribute('data-val-loss')).toBe(firstValLoss);
    expect(await rows.evaluateAll((n) => n.map((e) => (e as HTMLElement).dataset.epoch))).toEqual(['0', '1']);
    await screenshot(page, testInfo, 'training-done');

    // The trained model is stored with the others.
    await page.getByTestId('nav-zoo').click();
    await expect(page.locator('[data-testid="zoo-row"][data-kind="trained"]')).toHaveAttribute('data-name', /^Trained 2 ep · \d{1,2} [A-Z][a-z]{2} \d{2}:\d{2}$/);

    // Cancel deletes a run and its checkpoints.
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('train-step')).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('train-run-row')).toHaveCount(2);
    // Deleting asks once more (issue 13).
    await page.getByTestId('train-cancel').click();
    await expect(page.getByTestId('train-cancel')).toHaveAttribute('data-asking', 'true');
    await page.getByTestId('train-cancel').click();
    await expect(page.getByTestId('train-note')).toContainText('Cancelled');
    await expect(page.getByTestId('train-run-row')).toHaveCount(1);
    expect(await runStoreCounts(page)).toEqual({ runs: 1, runWeights: 1 });
  });
});
