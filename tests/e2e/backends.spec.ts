/** The same detection on forced backends: WASM and WebGPU must agree on the astronaut's face box. */
import { expect, test, type Page } from '@playwright/test';
import { detectAstronaut, goldenAstronautTopBox, iou, loadOriginalModel, openStudio, readBoxes, requireShared, screenshot, type Box } from './support.ts';

async function topBoxOn(page: Page, backend: 'wasm' | 'webgpu'): Promise<Box> {
  await openStudio(page, `?backend=${backend}`);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', backend);
  await loadOriginalModel(page);
  await detectAstronaut(page);
  const boxes = await readBoxes(page, 'detect-stage');
  expect(boxes.length).toBeGreaterThanOrEqual(1);
  return boxes[0]!;
}

test.describe('forced backends', () => {
  test.beforeEach(() => requireShared());

  test('wasm and webgpu give the same top box @webgpu', async ({ page, browser }, testInfo) => {
    const golden = goldenAstronautTopBox();

    const wasm = await topBoxOn(page, 'wasm');
    await screenshot(page, testInfo, 'astronaut-wasm');
    expect(iou(wasm, golden)).toBeGreaterThanOrEqual(0.8);

    const gpuPage = await (await browser.newContext()).newPage();
    await gpuPage.goto('/');
    const hasGpu = await gpuPage.evaluate(() => 'gpu' in navigator && !!navigator.gpu);
    test.skip(!hasGpu, 'navigator.gpu is absent (start Chromium with --enable-unsafe-webgpu)');

    const webgpu = await topBoxOn(gpuPage, 'webgpu');
    await screenshot(gpuPage, testInfo, 'astronaut-webgpu');
    expect(iou(webgpu, golden)).toBeGreaterThanOrEqual(0.8);
    expect(iou(webgpu, wasm)).toBeGreaterThanOrEqual(0.98);
    for (let i = 0; i < 4; i++) expect(Math.abs(webgpu[i]! - wasm[i]!)).toBeLessThan(1);
    expect(Math.abs(webgpu[4] - wasm[4])).toBeLessThan(1e-3);
    await gpuPage.context().close();
  });
});
