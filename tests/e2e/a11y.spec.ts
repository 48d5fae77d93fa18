/** Accessibility: no serious or critical axe violations on the main page, empty and with a model + image. */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { HAS_SHARED } from '../helpers/shared.ts';
import { detectAstronaut, loadOriginalModel, openStudio } from './support.ts';

async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

test.describe('accessibility', () => {
  test('main page has no serious or critical violations', async ({ page }) => {
    await openStudio(page);
    expect(await seriousViolations(page)).toEqual([]);
  });

  test('loaded model and detection have no serious or critical violations', async ({ page }) => {
    test.skip(!HAS_SHARED, 'needs ../shared');
    await openStudio(page, '?backend=wasm');
    await loadOriginalModel(page);
    await detectAstronaut(page);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('tab-webcam').click();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
