/** Live detection on Chromium's fake camera (the astronaut clip from ../shared/video). */
import { expect, test } from '@playwright/test';
import { iou, readBoxes, requireShared, screenshot, sharedPath, startWebcam } from './support.ts';
import { readFileSync } from 'node:fs';

test.describe('webcam', () => {
  test.beforeEach(() => requireShared());

  test('shows a face box and a detections-per-second figure', async ({ page }, testInfo) => {
    await startWebcam(page);

    await expect.poll(async () => (await readBoxes(page, 'webcam-stage')).length, { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
    await expect
      .poll(async () => Number(await page.getByTestId('webcam-fps').getAttribute('data-fps')), { timeout: 120_000 })
      .toBeGreaterThan(0);

    // The face moves slowly through the clip; its box must overlap the clip's face somewhere.
    const [top] = await readBoxes(page, 'webcam-stage');
    const gt = readFileSync(sharedPath('video', 'astronaut_640x480_15fps.gt.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { boxes_xywh: number[][] }).boxes_xywh[0]!)
      .map(([x, y, w, h]) => [x!, y!, x! + w!, y! + h!]);
    expect(Math.max(...gt.map((g) => iou(top!, g)))).toBeGreaterThan(0.3);
    await screenshot(page, testInfo, 'webcam');

    await page.getByTestId('webcam-toggle').click();
    await expect(page.getByTestId('webcam-toggle')).toHaveText(/Start camera/);
  });
});
