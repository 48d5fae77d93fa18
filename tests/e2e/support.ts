/**
 * Shared helpers for the studio's end-to-end specs: ../shared fixtures (read in place; missing outside
 * CI → skip, missing with CI=true → tests/helpers/shared.ts throws), the astronaut PNG built from the
 * golden .npy, model loading, reading boxes from the overlay, and IoU.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HAS_SHARED, SHARED_DIR, sharedPath } from '../helpers/shared.ts';
import { readNpy } from '../helpers/npy.ts';
import { astronautPng, type FilePayload } from '../helpers/astronaut.ts';

export { astronautPng, sharedPath, type FilePayload };

export type Box = [number, number, number, number, number];

/** Skips the calling test (or describe) when ../shared is absent. */
export function requireShared(): void {
  test.skip(!HAS_SHARED, `shared data folder not found at ${SHARED_DIR}`);
}

export const ORIGINAL_PTH = () => sharedPath('models', 'EResFD-original.pth');

/** The reference single-pass detections on the astronaut (rows x1, y1, x2, y2, score, best first). */
export function goldenAstronautTopBox(): Box {
  const det = readNpy(sharedPath('golden', 'real', 'astronaut.det0.npy'));
  return Array.from((det.data as Float32Array).subarray(0, 5)) as Box;
}

/** Opens the studio and waits until a backend has been selected. */
export async function openStudio(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-badge')).not.toHaveAttribute('data-backend', '');
}

/** Loads the original checkpoint through the file input and waits for the model card. */
export async function loadOriginalModel(page: Page): Promise<void> {
  // The input is disabled while the worker starts or a stored model is restored; a file set then is lost.
  await expect(page.getByTestId('model-file-input')).toBeEnabled();
  await page.getByTestId('model-file-input').setInputFiles(ORIGINAL_PTH());
  await expect(page.getByTestId('model-parameters')).toHaveText('92,208');
}

export function fileFromDisk(path: string, mimeType = 'application/octet-stream'): FilePayload {
  return { name: basename(path), mimeType, buffer: readFileSync(path) };
}

/** Drops a file on the element with test id `target`, as a drag from the desktop would. */
export async function dropFile(page: Page, target: string, file: FilePayload): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ b64, name, mimeType }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: mimeType }));
      return dt;
    },
    { b64: file.buffer.toString('base64'), name: file.name, mimeType: file.mimeType },
  );
  const el = page.getByTestId(target);
  await el.dispatchEvent('dragenter', { dataTransfer });
  await el.dispatchEvent('dragover', { dataTransfer });
  await el.dispatchEvent('drop', { dataTransfer });
}

/** Drops several files at once on the element with test id `target`. */
export async function dropFiles(page: Page, target: string, files: FilePayload[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((payloads) => {
    const dt = new DataTransfer();
    for (const { b64, name, mimeType } of payloads) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name, { type: mimeType }));
    }
    return dt;
  }, files.map((f) => ({ b64: f.buffer.toString('base64'), name: f.name, mimeType: f.mimeType })));
  const el = page.getByTestId(target);
  await el.dispatchEvent('dragenter', { dataTransfer });
  await el.dispatchEvent('dragover', { dataTransfer });
  await el.dispatchEvent('drop', { dataTransfer });
}

/** Opens the studio on WASM with the original model and starts the (fake) camera in the webcam tab. */
export async function startWebcam(page: Page): Promise<void> {
  // WASM: SwiftShader WebGPU takes seconds per frame here; the loop logic is backend-independent.
  await openStudio(page, '?backend=wasm');
  await loadOriginalModel(page);
  await page.getByTestId('tab-webcam').click();
  await page.getByTestId('webcam-toggle').click();
  await expect(page.getByTestId('webcam-toggle')).toHaveText(/Stop camera/);
}

/** Selects the astronaut PNG in the image tab and waits for the detection to finish. */
export async function detectAstronaut(page: Page): Promise<void> {
  await page.getByTestId('tab-image').click();
  await page.getByTestId('image-file-input').setInputFiles(astronautPng());
  await expect(page.getByTestId('detect-forward-ms')).toBeVisible();
}

/** Boxes currently drawn in the overlay of `scope` (a test id), in overlay order (best first). */
export async function readBoxes(page: Page, scope: string): Promise<Box[]> {
  return page
    .getByTestId(scope)
    .getByTestId('face-box')
    .evaluateAll((nodes) =>
      nodes.map((n) => ['x1', 'y1', 'x2', 'y2', 'score'].map((k) => Number((n as HTMLElement).dataset[k])) as Box),
    );
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = ix * iy;
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return inter / (area(a) + area(b) - inter);
}

/** Saves a full-page screenshot under test-results/<test>/ and attaches it to the report. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Serious or critical axe violations on the page as it is now (empty list = pass). */
export async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}
