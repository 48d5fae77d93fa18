/**
 * WebGPU in Node (issue 14): TF.js's WebGPU backend through Dawn (`webgpu` package) gives the WASM
 * forward's heads to 1e-4, dense and compacted. Runs in a child process with the Vulkan environment of
 * the software adapter (SwiftShader from Debian's chromium) unless VK_ICD_FILENAMES is already set;
 * skipped only when no adapter can be created outside CI (with CI=true that is a failure).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HAS_SHARED } from '../../helpers/shared.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const root = resolve(import.meta.dirname, '../../..');

describe.skipIf(!HAS_SHARED)('WebGPU backend in Node (Dawn)', () => {
  it('heads equal the WASM forward to 1e-4, dense original and compacted 30 % checkpoint', () => {
    const env = { ...process.env };
    if (!env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
      env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    }
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', resolve(root, 'tests/helpers/webgpu-heads.ts')], { cwd: root, env, encoding: 'utf8', timeout: 560_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { adapter: unknown; error?: string; backend?: string; results?: Record<string, number> };
    if (out.adapter === null) {
      if (process.env.CI === 'true') throw new Error(`CI=true but no WebGPU adapter: ${out.error}`);
      console.warn(`skipped: ${out.error}`);
      return;
    }
    expect(out.backend).toBe('webgpu');
    expect(Object.keys(out.results!)).toHaveLength(2);
    for (const [what, diff] of Object.entries(out.results!)) expect(diff, what).toBeLessThanOrEqual(1e-4);
  }, 600_000);
});
