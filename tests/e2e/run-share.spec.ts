/**
 * Issue 13 (studio features) and issue 10 (studio part), on WASM with tiny budgets:
 * - a reload mid-run shows the interrupted run's settings (read-only) and its budget in image passes,
 *   not the laptop defaults;
 * - a finished run shows its AP before/after, the core's verdict, and the released checkpoint of the
 *   nearest sparsity side by side once it is stored and evaluated on the same images; the rate
 *   editor's "Use these rates" measures and judges its AP before/after too;
 * - the run exported as one file opens in a fresh browser profile with the same trials, rates, AP and
 *   model (same content hash); damaged or foreign files are refused with a clear error;
 * - a stored model is renamed with the keyboard; deleting asks once more.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { judgeOutcome, type MeasuredAp } from '../../src/core/pipeline/outcome.ts';
import { openStudio, requireShared, screenshot, seriousViolations, sharedPath } from './support.ts';
import { fillFields, prepareStudio, trialRows } from './pipeline-support.ts';

const SETTINGS = ['easy', 'medium', 'hard'] as const;

async function apOf(page: Page, role: string): Promise<MeasuredAp> {
  const row = page.getByTestId(`result-ap-${role}`);
  const cells = await row.locator('td[data-value]').evaluateAll((n) => n.map((e) => Number((e as HTMLElement).dataset.value)));
  const images = Number((await row.locator('td').last().textContent())!.trim().split(/\s/)[0]);
  return { easy: cells[0]!, medium: cells[1]!, hard: cells[2]!, images, protocol: 'single' };
}

async function trialData(page: Page) {
  return trialRows(page).evaluateAll((n) => n.map((e) => ({ ...(e as HTMLElement).dataset })));
}

test.describe('run settings, outcome and sharing', () => {
  test.beforeEach(() => requireShared());

  test('a reload mid-run shows the running run’s settings read-only, with its budget, not the defaults', async ({ page }) => {
    test.setTimeout(600_000);
    await prepareStudio(page, { train: 10, val: 0 });
    await page.getByTestId('nav-pipeline').click();
    await expect(page.getByTestId('pipeline-backend')).toHaveText('wasm');
    await fillFields(page, {
      'pipeline-target': 40, 'pipeline-bo-init': 3, 'pipeline-bo-iter': 2, 'pipeline-images': 10, 'pipeline-size': 96,
      'pipeline-batch': 2, 'pipeline-sfp-epochs': 2, 'pipeline-ft-epochs': 1, 'pipeline-eval-images': 0, 'pipeline-seed': 7,
    });
    // 10 images → 2 validation + 8 training. The default (laptop) recipe scores trials by adaptive BN,
    // forward passes only, so training passes are 2 SFP + 1 fine-tune = 3 epochs of 8 images.
    await expect(page.getByTestId('pipeline-budget-train')).toHaveAttribute('data-value', '24');
    await expect(page.getByTestId('pipeline-budget-train')).toContainText('24 training image passes');

    await page.getByTestId('pipeline-start').click();
    await expect(page.getByTestId('pipeline-form-run')).toHaveAttribute('data-status', 'running');
    await expect(page.getByTestId('pipeline-target')).toBeDisabled();
    await expect(trialRows(page).first()).toBeVisible({ timeout: 300_000 });

    await page.reload();
    await page.getByTestId('nav-pipeline').click();
    // The killed worker may hold the run's lock for a moment ("other tab").
    await expect(page.getByTestId('pipeline-run')).toHaveAttribute('data-status', /interrupted|elsewhere/);
    const banner = page.getByTestId('pipeline-form-run');
    await expect(banner).toHaveAttribute('data-status', /interrupted|elsewhere/);
    await expect(page.getByTestId('pipeline-form-run-model')).toHaveText('EResFD-original.pth');
    const shown = { 'pipeline-target': '40', 'pipeline-bo-init': '3', 'pipeline-bo-iter': '2', 'pipeline-images': '10', 'pipeline-size': '96', 'pipeline-batch': '2', 'pipeline-sfp-epochs': '2', 'pipeline-ft-epochs': '1', 'pipeline-seed': '7' };
    for (const [id, value] of Object.entries(shown)) {
      await expect(page.getByTestId(id)).toHaveValue(value);
      await expect(page.getByTestId(id)).toBeDisabled();
    }
    await expect(page.getByTestId('pipeline-budget-train')).toHaveAttribute('data-value', '24');
    await expect(page.getByTestId('pipeline-start')).toBeDisabled();
    expect(await seriousViolations(page)).toEqual([]);

    // A new run can still be set up: the form becomes the (editable) draft again.
    await page.getByTestId('pipeline-new-draft').click();
    await expect(banner).toHaveCount(0);
    await expect(page.getByTestId('pipeline-target')).toBeEnabled();
    await expect(page.getByTestId('pipeline-target')).toHaveValue('30');

    // Delete the interrupted run: asks once more.
    await page.getByTestId('pipeline-cancel').click();
    await expect(page.getByTestId('pipeline-cancel')).toHaveAttribute('data-asking', 'true');
    await page.getByTestId('pipeline-cancel').press('Escape');
    await expect(page.getByTestId('pipeline-cancel')).toHaveAttribute('data-asking', 'false');
    await expect(page.getByTestId('pipeline-run')).toHaveCount(1);
    await page.getByTestId('pipeline-cancel').click();
    await page.getByTestId('pipeline-cancel').click();
    await expect(page.getByTestId('pipeline-runs-empty')).toBeVisible();
  });

  test('a finished run: verdict and released checkpoint side by side; its run file opens in a fresh profile with the same trials, rates, AP and model', async ({ page, browser }, testInfo) => {
    test.setTimeout(900_000);
    await prepareStudio(page, { train: 6, val: 2 });
    await page.getByTestId('nav-pipeline').click();
    await expect(page.getByTestId('pipeline-backend')).toHaveText('wasm');
    await fillFields(page, {
      'pipeline-target': 30, 'pipeline-bo-init': 1, 'pipeline-bo-iter': 0, 'pipeline-images': 6, 'pipeline-size': 64,
      'pipeline-batch': 3, 'pipeline-sfp-epochs': 1, 'pipeline-sfp-every': 1, 'pipeline-ft-epochs': 1, 'pipeline-eval-images': 2,
    });
    await page.getByTestId('pipeline-start').click();
    const run = page.getByTestId('pipeline-run');
    await expect(run).toHaveAttribute('data-status', 'done', { timeout: 600_000 });

    // Outcome first: the verdict the core gives for the AP shown.
    const before = await apOf(page, 'before');
    const after = await apOf(page, 'after');
    expect(after.images).toBe(2);
    const verdict = page.getByTestId('result-verdict');
    await expect(verdict).toHaveAttribute('data-verdict', judgeOutcome({ before, after }).verdict);
    if (['dead', 'large-drop'].includes((await verdict.getAttribute('data-verdict'))!)) await expect(verdict).toContainText('more budget');

    // The rate editor's "Use these rates" shows its outcome too: AP before/after on the val set, the verdict.
    await page.getByTestId('nav-prune').click();
    const inputs = page.getByTestId('rate-input');
    await expect(inputs).toHaveCount(6);
    for (let i = 0; i < 6; i++) await inputs.nth(i).fill('20');
    await expect.poll(async () => Number(await page.getByTestId('prune-sparsity').getAttribute('data-sparsity'))).toBeGreaterThan(10);
    await page.getByTestId('prune-use').click();
    await expect(page.getByTestId('prune-saved')).toContainText(/FPGM \d+(\.\d)?% · /);
    await page.getByTestId('prune-outcome-measure').click();
    const oneShot = page.getByTestId('prune-outcome');
    await expect(oneShot.getByTestId('result-verdict')).toBeVisible({ timeout: 300_000 });
    const oneBefore = await apOf(page, 'before');
    const oneAfter = await apOf(page, 'after');
    expect([oneBefore.images, oneAfter.images]).toEqual([2, 2]);
    // Same model, same images: the editor's "before" (Evaluate path) matches the run's (pipeline worker).
    for (const k of SETTINGS) expect(oneBefore[k]).toBeCloseTo(before[k], 3);
    const oneVerdict = judgeOutcome({ before: oneBefore, after: oneAfter, kind: 'one-shot' });
    await expect(oneShot.getByTestId('result-verdict')).toHaveAttribute('data-verdict', oneVerdict.verdict);
    if (oneVerdict.advice.length > 0) await expect(oneShot.getByTestId('result-verdict')).toContainText('B-FPGM pipeline');
    await screenshot(page, testInfo, 'use-these-rates-outcome');
    await page.getByTestId('nav-pipeline').click();

    // The released 30 % checkpoint, loaded and evaluated on the same 2 val images, appears beside it.
    await page.getByTestId('nav-detect').click();
    await page.getByTestId('model-file-input').setInputFiles(sharedPath('models', 'EResFD-30-pruned.pth'));
    await expect(page.getByTestId('model-name')).toHaveText('EResFD-30-pruned.pth');
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('eval-protocol-single').check();
    await page.getByTestId('eval-run').click();
    await expect(page.getByTestId('ap-row').filter({ hasText: 'EResFD-30-pruned.pth' }).getByTestId('ap-images')).toHaveText('2', { timeout: 300_000 });
    await page.getByTestId('nav-pipeline').click();
    const released = page.getByTestId('result-ap-released');
    await expect(released).toContainText('EResFD-30-pruned.pth');
    const releasedAp = await apOf(page, 'released');
    for (const s of SETTINGS) {
      expect(releasedAp[s]).toBeGreaterThanOrEqual(0);
      expect(releasedAp[s]).toBeLessThanOrEqual(1);
    }
    await expect(released).not.toContainText('other images');
    await expect(verdict).toHaveAttribute('data-verdict', judgeOutcome({ before, after, released: releasedAp }).verdict);
    await screenshot(page, testInfo, 'run-outcome');
    expect(await seriousViolations(page)).toEqual([]);

    // What the dashboard shows here.
    const trials = await trialData(page);
    expect(trials.length).toBe(2);
    const sparsity = await page.getByTestId('result-sparsity').getAttribute('data-value');
    const heat = await page.getByTestId('heat-cell').count();
    const epochs = await page.getByTestId('epoch-row').allTextContents();
    await page.getByTestId('nav-zoo').click();
    const mine = page.locator('[data-testid="zoo-row"][data-kind="pruned"][data-name^="B-FPGM"]');
    const modelId = await mine.getAttribute('data-model-id');
    const modelName = await mine.getAttribute('data-name');
    await page.getByTestId('nav-pipeline').click();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pipeline-share').click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`-${modelId!.slice(0, 8)}\\.bfpgm-run\\.zip$`));
    const file = testInfo.outputPath('shared-run.bfpgm-run.zip');
    await download.saveAs(file);

    // A fresh browser profile (own IndexedDB, nothing imported, no model loaded).
    const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
    try {
      const student = await context.newPage();
      await openStudio(student, '?backend=wasm#pipeline');
      await expect(student.getByTestId('pipeline-runs-empty')).toBeVisible();

      // Foreign and damaged files are refused, nothing is stored.
      await student.getByTestId('pipeline-open-file').setInputFiles({ name: 'notes.bfpgm-run.zip', mimeType: 'application/zip', buffer: Buffer.from('not a run at all') });
      await expect(student.getByTestId('pipeline-open-error')).toContainText('not a zip');
      const bytes = readFileSync(file);
      await student.getByTestId('pipeline-open-file').setInputFiles({ name: 'cut.bfpgm-run.zip', mimeType: 'application/zip', buffer: bytes.subarray(0, bytes.length >> 1) });
      await expect(student.getByTestId('pipeline-open-error')).toContainText(/damaged|truncated/);
      await student.getByTestId('pipeline-open-file').setInputFiles(sharedPath('models', 'EResFD-30-pruned.pth'));
      await expect(student.getByTestId('pipeline-open-error')).toContainText('no run.json');
      await expect(student.getByTestId('pipeline-runs-empty')).toBeVisible();

      await student.getByTestId('pipeline-open-file').setInputFiles(file);
      await expect(student.getByTestId('pipeline-open-note')).toContainText('Opened');
      await expect(student.getByTestId('pipeline-open-error')).toHaveCount(0);
      await expect(student.getByTestId('pipeline-run')).toHaveAttribute('data-status', 'done');
      await expect(student.getByTestId('result-imported')).toBeVisible();
      expect(await trialData(student)).toEqual(trials);
      await expect(student.getByTestId('heat-cell')).toHaveCount(heat);
      expect(await student.getByTestId('epoch-row').allTextContents()).toEqual(epochs);
      await expect(student.getByTestId('result-sparsity')).toHaveAttribute('data-value', sparsity!);
      expect(await apOf(student, 'before')).toEqual(before);
      expect(await apOf(student, 'after')).toEqual(after);
      await expect(student.getByTestId('result-verdict')).toHaveAttribute('data-verdict', judgeOutcome({ before, after }).verdict);
      await screenshot(student, testInfo, 'run-opened-in-fresh-profile');
      expect(await seriousViolations(student)).toEqual([]);

      // The same model: same content hash, name and AP in the zoo.
      await student.getByTestId('nav-zoo').click();
      const theirs = student.locator('[data-testid="zoo-row"][data-kind="pruned"]');
      await expect(theirs).toHaveAttribute('data-model-id', modelId!);
      await expect(theirs).toHaveAttribute('data-name', modelName!);
      for (const s of SETTINGS) await expect(theirs.getByTestId(`zoo-ap-${s}`)).toHaveAttribute('data-value', String(after[s]));

      // Opening the same file again changes nothing.
      await student.getByTestId('nav-pipeline').click();
      await student.getByTestId('pipeline-open-file').setInputFiles(file);
      await expect(student.getByTestId('pipeline-open-note')).toContainText('already');
      await expect(student.getByTestId('pipeline-run-row')).toHaveCount(1);

      // Rename by keyboard: Escape keeps the old name, Enter saves the new one.
      await student.getByTestId('nav-zoo').click();
      await theirs.getByTestId('rename-model').focus();
      await student.keyboard.press('Enter');
      await expect(theirs.getByTestId('rename-input')).toBeFocused();
      await student.keyboard.type('scrap');
      await student.keyboard.press('Escape');
      await expect(theirs).toHaveAttribute('data-name', modelName!);
      await expect(theirs.getByTestId('rename-model')).toBeFocused();
      await student.keyboard.press('Enter');
      await student.keyboard.press('ControlOrMeta+a');
      await student.keyboard.type('  Class demo:   30 %  ');
      await student.keyboard.press('Enter');
      await expect(theirs).toHaveAttribute('data-name', 'Class demo: 30 %');
      await student.reload();
      await student.getByTestId('nav-zoo').click();
      await expect(student.locator('[data-testid="zoo-row"][data-kind="pruned"]')).toHaveAttribute('data-name', 'Class demo: 30 %');

      // Deleting asks once more.
      const del = student.locator('[data-testid="zoo-row"][data-kind="pruned"]').getByTestId('zoo-delete');
      await del.click();
      await expect(del).toHaveAttribute('data-asking', 'true');
      await expect(student.getByTestId('zoo-row')).toHaveCount(1);
      await del.click();
      await expect(student.getByTestId('zoo-row')).toHaveCount(0);
    } finally {
      await context.close();
    }
  });
});
