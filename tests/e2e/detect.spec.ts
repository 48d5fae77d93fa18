/** Image detection: the astronaut's face box (vs the PyTorch single-pass golden) and the threshold slider. */
import { expect, test } from '@playwright/test';
import { astronautPng, dropFile, goldenAstronautTopBox, iou, loadOriginalModel, openStudio, readBoxes, requireShared, screenshot } from './support.ts';

test.describe('image detection', () => {
  test.beforeEach(() => requireShared());

  test('finds the astronaut face in a dropped photo', async ({ page }, testInfo) => {
    await openStudio(page); // default backend order
    await loadOriginalModel(page);
    await dropFile(page, 'detect-panel', astronautPng());
    await expect(page.getByTestId('detect-forward-ms')).toBeVisible();

    const boxes = await readBoxes(page, 'detect-stage');
    expect(boxes.length).toBeGreaterThanOrEqual(1);
    const golden = goldenAstronautTopBox(); // ≈ (179, 60)–(275, 176), score 0.9998
    expect(iou(boxes[0]!, golden)).toBeGreaterThanOrEqual(0.8);
    expect(boxes[0]![4]).toBeGreaterThan(0.9);
    expect(Number(await page.getByTestId('detect-forward-ms').getAttribute('data-ms'))).toBeGreaterThan(0);
    await screenshot(page, testInfo, 'astronaut');

    // The slider filters client-side: at its minimum more (weak) boxes appear, at its maximum only the face.
    const slider = page.getByTestId('detect-threshold');
    await slider.fill('0.05');
    await expect.poll(async () => (await readBoxes(page, 'detect-stage')).length).toBeGreaterThan(1);
    await slider.fill('0.99');
    await expect.poll(async () => (await readBoxes(page, 'detect-stage')).length).toBe(1);
  });
});
