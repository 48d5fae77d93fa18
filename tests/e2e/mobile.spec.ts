/**
 * Issue 13: the pages people open on a phone — Detect, the webcam demo and Learn — at 390×844: the tabs
 * stay one scrollable line, nothing scrolls sideways, the photo / video and its result fit the screen,
 * every control is inside the window and none covers another. A screenshot of each is attached.
 */
import { expect, test, type Page } from '@playwright/test';
import { goTo, layoutProblems } from './layout-support.ts';
import { detectAstronaut, loadOriginalModel, openStudio, readBoxes, requireShared, screenshot, startWebcam } from './support.ts';

const PHONE = { width: 390, height: 844 };

/** Facts every phone page must satisfy; `what` names the page in failures. */
async function expectPhoneLayout(page: Page, what: string): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${what}: sideways scroll`).toBeLessThanOrEqual(0);
  expect(await layoutProblems(page), what).toEqual([]);
  // The tabs: one line that scrolls within the window, not a wrapped block eating the screen.
  const nav = (await page.getByTestId('nav').boundingBox())!;
  expect(nav.height, `${what}: tab bar height`).toBeLessThan(50);
  expect(nav.x).toBeGreaterThanOrEqual(0);
  expect(nav.x + nav.width).toBeLessThanOrEqual(PHONE.width);
  const header = (await page.locator('header').boundingBox())!;
  expect(header.height, `${what}: header height`).toBeLessThan(110);
}

/** The element lies within the window horizontally and, when `onScreen`, entirely on the first screen. */
async function expectInWindow(page: Page, testid: string, onScreen: boolean): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = (await page.getByTestId(testid).boundingBox())!;
  expect(box.x, testid).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, testid).toBeLessThanOrEqual(PHONE.width);
  if (onScreen) expect(box.y + box.height, `${testid} below the first screen`).toBeLessThanOrEqual(PHONE.height);
}

test.describe('phone layout (390×844)', () => {
  test.beforeEach(() => requireShared());

  test('Detect: the photo, its boxes and the face count on the first screen', async ({ page }, testInfo) => {
    await page.setViewportSize(PHONE);
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await detectAstronaut(page);
    await expect.poll(async () => (await readBoxes(page, 'detect-stage')).length).toBeGreaterThanOrEqual(1);
    await expectInWindow(page, 'detect-stage', true);
    await expectInWindow(page, 'detect-count', true);
    await expectPhoneLayout(page, 'detect');
    await screenshot(page, testInfo, 'phone-detect');
  });

  test('Webcam: the video and its boxes fit the screen, start/stop within reach', async ({ page }, testInfo) => {
    await page.setViewportSize(PHONE);
    await startWebcam(page);
    await expect.poll(async () => (await readBoxes(page, 'webcam-stage')).length, { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
    await expectInWindow(page, 'webcam-stage', true);
    await expectInWindow(page, 'webcam-toggle', true);
    // The video element itself (and the box overlay) are no wider than their stage.
    const stage = (await page.getByTestId('webcam-stage').boundingBox())!;
    for (const sel of ['video', '[data-testid="box-overlay"]']) {
      const box = (await page.getByTestId('webcam-stage').locator(sel).first().boundingBox())!;
      expect(box.width, sel).toBeLessThanOrEqual(stage.width + 0.5);
      expect(box.x, sel).toBeGreaterThanOrEqual(stage.x - 0.5);
    }
    await expectPhoneLayout(page, 'webcam');
    await screenshot(page, testInfo, 'phone-webcam');
    await page.getByTestId('webcam-toggle').click();
    await expect(page.getByTestId('webcam-toggle')).toHaveText(/Start camera/);
  });

  test('Learn: every step fits, reached through the scrolling tab bar', async ({ page }, testInfo) => {
    await page.setViewportSize(PHONE);
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    // "Learn" is the last tab, off the right edge at first: the tab bar scrolls to it.
    await page.getByTestId('nav-learn').click();
    await goTo(page, 'learn');
    await expect(page.getByTestId('teach-heatmap')).toBeVisible();
    for (let step = 0; step < 4; step++) {
      if (step > 0) await page.getByTestId('teach-next').click();
      await expect(page.getByTestId('teach-page')).toHaveAttribute('data-step', String(step));
      if (step === 3) await expect(page.getByTestId('teach-gp-chart')).toBeVisible();
      await expectPhoneLayout(page, `learn step ${step + 1}`);
      await screenshot(page, testInfo, `phone-learn-${step + 1}`);
    }
  });
});
