/**
 * The core in Chromium against the PyTorch goldens (issue 2 acceptance): per-level heads of synth_rs0
 * ≤ 1e-4 on the WASM and on the (software) WebGPU backend, and the FPGM WGSL kernel agreeing with the
 * TF.js-ops path and the host plans on WebGPU. Runs on the benchmark page, which exposes the core.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { requireShared, sharedPath } from './support.ts';
import { readNpy } from '../helpers/npy.ts';

const b64 = (path: string) => readFileSync(path).toString('base64');
const floats = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

async function openBenchPage(page: Page): Promise<void> {
  // The dev server may re-optimise dependencies on first visit and reload once: wait for a stable page.
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto('/bench/browser/bench.html');
    try {
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      await page.waitForLoadState('networkidle');
      if (await page.evaluate(() => typeof window.bench?.heads === 'function')) return;
    } catch {
      /* reloaded underneath us: try again */
    }
  }
  throw new Error('bench page did not become ready');
}

test.describe('core parity in Chromium', () => {
  test.beforeEach(() => requireShared());

  for (const backend of ['wasm', 'webgpu'] as const) {
    test(`synth_rs0 heads ≤ 1e-4 on ${backend} @${backend}`, async ({ page }) => {
      test.setTimeout(240_000);
      await openBenchPage(page);
      if (backend === 'webgpu') test.skip(!(await page.evaluate(() => 'gpu' in navigator)), 'no navigator.gpu');
      const input = readNpy(sharedPath('golden/synth_rs0/input_rgb_u8.npy'));
      const rgb = Buffer.from((input.data as Uint8Array).buffer).toString('base64');
      const res = await page.evaluate(([m, x, be]) => window.bench.heads(m, x, 480, 640, be as 'wasm' | 'webgpu'), [b64(sharedPath('models/EResFD-original.pth')), rgb, backend] as const);
      expect(res.backend).toBe(backend);
      for (let k = 0; k < 6; k++) {
        for (const [name, ours] of [['loc', res.loc[k]!], ['conf', res.conf[k]!]] as const) {
          const golden = readNpy(sharedPath(`golden/synth_rs0/${name}_L${k}.npy`)).data as Float32Array;
          const got = floats(ours);
          expect(got.length).toBe(golden.length);
          let d = 0;
          for (let i = 0; i < golden.length; i++) d = Math.max(d, Math.abs(got[i]! - golden[i]!));
          expect(d, `${name} L${k}`).toBeLessThanOrEqual(1e-4);
        }
      }
    });
  }

  test('FPGM WGSL kernel matches the TF.js ops path and the host plans @webgpu', async ({ page }) => {
    test.setTimeout(240_000);
    await openBenchPage(page);
    test.skip(!(await page.evaluate(() => 'gpu' in navigator)), 'no navigator.gpu');
    const r = await page.evaluate((m) => window.bench.fpgm(m, 'webgpu'), b64(sharedPath('models/EResFD-original.pth')));
    expect(r.path).toBe('webgpu-kernel');
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    expect(r.plansEqual).toBe(true);
  });
});

test.describe('training losses in Chromium', () => {
  test.beforeEach(() => requireShared());
  for (const backend of ['wasm', 'webgpu'] as const) {
    test(`golden train step: train- and eval-mode losses ≤ 1e-4 relative on ${backend} @${backend}`, async ({ page }) => {
      test.setTimeout(240_000);
      await openBenchPage(page);
      if (backend === 'webgpu') test.skip(!(await page.evaluate(() => 'gpu' in navigator)), 'no navigator.gpu');
      const G = 'golden/train_step';
      const images = [0, 1].map((i) => Buffer.from((readNpy(sharedPath(G, `img${i}_rgb_u8_320.npy`)).data as Uint8Array).buffer).toString('base64'));
      const targets = [0, 1].map((i) => Array.from(readNpy(sharedPath(G, `targets_img${i}.npy`)).data as Float32Array));
      const summary = JSON.parse(readFileSync(sharedPath(G, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null'));
      const r = await page.evaluate(([m, im, t, be]) => window.bench.losses(m, im as string[], t as number[][], 320, be as 'wasm' | 'webgpu'),
        [b64(sharedPath('models/EResFD-original.pth')), images, targets, backend] as const);
      expect(r.backend).toBe(backend);
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      expect(rel(r.train[0]!, summary.train_forward.loss_l)).toBeLessThanOrEqual(1e-4);
      expect(rel(r.train[1]!, summary.train_forward.loss_c)).toBeLessThanOrEqual(1e-4);
      expect(rel(r.eval[0]!, summary.val_loss_original.loss_l)).toBeLessThanOrEqual(1e-4);
      expect(rel(r.eval[1]!, summary.val_loss_original.loss_c)).toBeLessThanOrEqual(1e-4);
    });
  }
});
