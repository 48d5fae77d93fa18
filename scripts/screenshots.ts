/**
 * npm run screenshots: regenerates the README's screenshots (docs/screenshots/*.png) of the main pages at a
 * small-laptop size (1280×800) and a phone size (390×844), in Debian's Chromium driven by Playwright against
 * a dev server started here.
 *
 * Only public-domain pictures appear: the astronaut photo of the goldens (NASA) and its fake-camera clip, and
 * the Learn page's toy optimiser. No WIDER image and nothing drawn from it (no dataset browser, no evaluation
 * thumbnails) and no picture of the licensed weights (the Learn steps that draw filters are left out); the
 * checkpoints are only loaded to detect faces and show their numbers. Each PNG is palette-compressed with
 * pngquant when it is installed (`apt-get install pngquant`) and must stay under 300 kB.
 */
import { chromium, expect as baseExpect, type Browser, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { astronautPng } from '../tests/helpers/astronaut.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../tests/helpers/chromium.ts';
import { HAS_SHARED, SHARED_DIR, sharedPath } from '../tests/helpers/shared.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'screenshots');
const MAX_BYTES = 300_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// Loading a model, a first detection and the camera take a while on a busy machine.
const expect = baseExpect.configure({ timeout: 120_000 });

/** A fresh browser profile at `viewport` with the released 30 % checkpoint and the original stored, the original in use. */
async function openStudio(browser: Browser, base: string, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light', reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(`${base}?backend=wasm#detect`);
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', '');
  for (const file of ['EResFD-30-pruned.pth', 'EResFD-original.pth']) {
    // Disabled while the worker starts; a file set then would be lost.
    await expect(page.getByTestId('model-file-input')).toBeEnabled();
    await page.getByTestId('model-file-input').setInputFiles(sharedPath('models', file));
    await expect(page.getByTestId('model-name')).toHaveText(file);
  }
  return page;
}

async function goTo(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => (location.hash = r), route);
  await expect(page.getByTestId(`nav-${route}`)).toHaveAttribute('aria-current', 'page');
}

async function detectAstronaut(page: Page): Promise<void> {
  await goTo(page, 'detect');
  await page.getByTestId('tab-image').click();
  await page.getByTestId('image-file-input').setInputFiles(astronautPng());
  await expect(page.getByTestId('detect-forward-ms')).toBeVisible();
}

/** Learn, step 4 (a toy function, no weights), after a few probes of the optimiser. */
async function learnOptimiser(page: Page): Promise<void> {
  await goTo(page, 'learn');
  await page.getByTestId('teach-step-bayes').click();
  await expect(page.getByTestId('teach-gp-chart')).toBeVisible();
  for (let i = 0; i < 4; i++) {
    await page.getByTestId('teach-gp-probe').click();
    await expect(page.getByTestId('teach-gp-probe')).toBeEnabled();
  }
}

/** Writes the window as it is now (not the full page: what a visitor sees first) and compresses it. */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  // Let pending paints (charts, overlays) settle; nothing here animates (reduced motion).
  await page.waitForTimeout(500);
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  compress(path);
  const bytes = statSync(path).size;
  console.log(`${basename(path)}  ${(bytes / 1000).toFixed(0)} kB`);
  if (bytes > MAX_BYTES) throw new Error(`${path} is ${bytes} bytes, over ${MAX_BYTES}: install pngquant (apt-get install pngquant)`);
}

function compress(path: string): void {
  const tmp = `${path}.q.png`;
  try {
    execFileSync('pngquant', ['--quality=60-90', '--speed=1', '--strip', '--force', '--output', tmp, path], { stdio: 'pipe' });
    renameSync(tmp, path);
  } catch (e) {
    const code = (e as { code?: string; status?: number }).code ?? (e as { status?: number }).status;
    // ENOENT: pngquant missing (the uncompressed PNG stays); 99: quality not reachable (keep the original).
    if (code !== 'ENOENT' && code !== 99) throw e;
    if (code === 'ENOENT') console.warn('pngquant not found: PNGs are left uncompressed');
  }
}

async function main(): Promise<void> {
  if (!HAS_SHARED) throw new Error(`the shared data folder (checkpoints, astronaut golden) is missing at ${SHARED_DIR}`);
  mkdirSync(OUT, { recursive: true });
  process.env.STUDIO_E2E = '1'; // no HMR: nothing reloads the page mid-shot
  const server = await createServer({ root: ROOT, logLevel: 'warn', server: { host: '127.0.0.1', port: 5190 } });
  await server.listen();
  const base = server.resolvedUrls!.local[0]!;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs() });
  try {
    const desk = await openStudio(browser, base, DESKTOP);
    await detectAstronaut(desk);
    await shoot(desk, 'detect-1280x800');

    await goTo(desk, 'compare');
    const pruned = await desk.getByTestId('compare-pick-b').locator('option', { hasText: 'EResFD-30-pruned.pth' }).first().getAttribute('value');
    await desk.getByTestId('compare-pick-b').selectOption(pruned!);
    await expect(desk.getByTestId('compare-model-b')).toContainText('EResFD-30-pruned.pth');
    await desk.getByTestId('compare-image-input').setInputFiles(astronautPng());
    for (const pane of ['a', 'b']) await expect(desk.getByTestId(`compare-stage-${pane}`).getByTestId('face-box').first()).toBeAttached();
    await expect(desk.getByTestId('compare-ms-b')).not.toHaveAttribute('data-ms', '');
    await shoot(desk, 'compare-1280x800');

    await goTo(desk, 'prune');
    const rates = [20, 30, 40, 50, 30, 30];
    const inputs = desk.getByTestId('rate-input');
    await expect(inputs).toHaveCount(rates.length);
    for (let i = 0; i < rates.length; i++) await inputs.nth(i).fill(String(rates[i]));
    // The ms/frame of these rates measured (not the previous rates' figure).
    await expect(desk.getByTestId('prune-ms')).toHaveAttribute('data-current', 'true');
    await shoot(desk, 'prune-1280x800');

    await learnOptimiser(desk);
    await shoot(desk, 'learn-1280x800');
    await desk.context().close();

    const phone = await openStudio(browser, base, PHONE);
    await detectAstronaut(phone);
    await shoot(phone, 'detect-390x844');

    await phone.getByTestId('tab-webcam').click();
    await phone.getByTestId('webcam-toggle').click();
    await expect(phone.getByTestId('webcam-stage').getByTestId('face-box').first()).toBeAttached();
    await expect.poll(async () => Number(await phone.getByTestId('webcam-fps').getAttribute('data-fps'))).toBeGreaterThan(0);
    await shoot(phone, 'webcam-390x844');
    await phone.getByTestId('webcam-toggle').click();

    await learnOptimiser(phone);
    await shoot(phone, 'learn-390x844');
    await phone.context().close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
