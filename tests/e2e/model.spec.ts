/** Loading checkpoints: file input, model card, persistence across reloads, bad files. */
import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { readSharedJson } from '../helpers/shared.ts';
import { dropFile, fileFromDisk, loadOriginalModel, openStudio, requireShared, screenshot, sharedPath } from './support.ts';

/** Measured sparsity per shipped checkpoint (reference/pruned_stats.json). */
function sparsityPct(which: string): number {
  return readSharedJson<Record<string, { calc_sparsity_pct: number }>>('reference', 'pruned_stats.json')[which]!.calc_sparsity_pct;
}

test.describe('model loading', () => {
  test.beforeEach(() => requireShared());

  test('loads EResFD-original.pth through the file input and shows its card', async ({ page }, testInfo) => {
    await openStudio(page);
    await loadOriginalModel(page);
    await expect(page.getByTestId('model-sparsity')).toHaveText(`${sparsityPct('original').toFixed(2)} %`);
    await expect(page.getByTestId('model-name')).toHaveText('EResFD-original.pth');
    await expect(page.getByTestId('model-group')).not.toHaveCount(0);
    await expect(page.getByTestId('header-model')).toContainText('EResFD-original.pth');
    await expect(page.getByTestId('stored-model')).toHaveCount(1);
    await screenshot(page, testInfo, 'model-card');
  });

  test('a B-FPGM pruned checkpoint shows its sparsity', async ({ page }) => {
    await openStudio(page);
    await page.getByTestId('model-file-input').setInputFiles(sharedPath('models', 'EResFD-30-pruned.pth'));
    await expect(page.getByTestId('model-name')).toHaveText('EResFD-30-pruned.pth');
    await expect(page.getByTestId('model-parameters')).toHaveText('92,208');
    await expect(page.getByTestId('model-sparsity')).toHaveText(`${sparsityPct('30').toFixed(2)} %`);
  });

  test('loads a checkpoint dropped on the loader', async ({ page }) => {
    await openStudio(page);
    await dropFile(page, 'model-drop', fileFromDisk(sharedPath('models', 'EResFD-20-pruned.pth')));
    await expect(page.getByTestId('model-name')).toHaveText('EResFD-20-pruned.pth');
    await expect(page.getByTestId('model-sparsity')).toHaveText(`${sparsityPct('20').toFixed(2)} %`);
  });

  test('keeps the model across a reload (IndexedDB)', async ({ page }, testInfo) => {
    await openStudio(page);
    await loadOriginalModel(page);
    await page.reload();
    // Restored without touching the loader.
    await expect(page.getByTestId('model-parameters')).toHaveText('92,208');
    await expect(page.getByTestId('model-name')).toHaveText('EResFD-original.pth');
    await expect(page.getByTestId('model-error')).toHaveCount(0);
    await screenshot(page, testInfo, 'after-reload');
  });

  test('a file of random bytes shows a clear error and the studio keeps working', async ({ page }, testInfo) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openStudio(page);
    await page.getByTestId('model-file-input').setInputFiles({
      name: 'not-a-checkpoint.pth',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(4096),
    });
    const note = page.getByTestId('model-error');
    await expect(note).toBeVisible();
    await expect(note).toHaveAttribute('data-code', /^CHECKPOINT_/);
    await expect(note).toContainText('not-a-checkpoint.pth could not be loaded');
    await expect(page.getByTestId('model-empty')).toBeVisible();
    await screenshot(page, testInfo, 'bad-file');

    // No crash: a real checkpoint still loads afterwards and the error goes away.
    await loadOriginalModel(page);
    await expect(note).toHaveCount(0);
    expect(errors).toEqual([]);
  });

  test('an unreachable URL shows a network error with a hint', async ({ page }) => {
    await openStudio(page);
    await page.getByTestId('model-url').fill('http://127.0.0.1:9/EResFD-original.pth');
    await page.getByTestId('model-url-load').click();
    const note = page.getByTestId('model-error');
    await expect(note).toBeVisible();
    await expect(note).toContainText('Could not fetch');
    await expect(note).toContainText('Download it yourself');
  });
});
