/** Layout and keyboard: a narrow (phone) window without horizontal scrolling, tabs driven by keys. */
import { expect, test } from '@playwright/test';
import { HAS_SHARED } from '../helpers/shared.ts';
import { detectAstronaut, loadOriginalModel, openStudio, screenshot } from './support.ts';

test.describe('layout', () => {
  test('works in a narrow window', async ({ page }, testInfo) => {
    test.skip(!HAS_SHARED, 'needs ../shared');
    await page.setViewportSize({ width: 390, height: 844 });
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await detectAstronaut(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(page.getByTestId('backend-badge')).toBeVisible();
    await screenshot(page, testInfo, 'narrow');
  });

  test('tabs and the backend details are keyboard-usable', async ({ page }) => {
    await openStudio(page);
    await page.getByTestId('tab-image').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('tab-webcam')).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('tab-webcam')).toBeFocused();
    await expect(page.getByTestId('webcam-panel')).toBeVisible();
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByTestId('image-drop')).toBeVisible();

    // The backend badge opens with the keyboard and lists the probe results.
    await page.getByTestId('backend-badge').locator('summary').focus();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('backend-probe').first()).toBeVisible();
  });
});
