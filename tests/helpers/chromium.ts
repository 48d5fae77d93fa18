/**
 * How the studio's Chromium is launched, for the e2e tests (playwright.config.ts) and the README screenshots
 * (scripts/screenshots.ts): Debian's binary (Playwright cannot download its own here), WebGPU allowed, and a
 * fake camera playing the public-domain astronaut clip of ../shared/video.
 */
import { sharedPath } from './shared.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumArgs(): string[] {
  const fakeVideo = sharedPath('video', 'astronaut_640x480_15fps.mjpeg');
  return [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${fakeVideo}`,
  ];
}
