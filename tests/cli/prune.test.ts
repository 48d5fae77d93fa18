/**
 * `prune` end to end through the CLI with a tiny budget on ../shared/widerface: a process killed in
 * the middle of the search is re-run with the same run folder and continues from its recorded trials;
 * the written checkpoint loads with the core reader and `info` reports the printed sparsity.
 */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';
import { readCheckpoint } from '../../src/core/checkpoint/read-checkpoint.ts';
import { validateEResFDStateDict } from '../../src/core/checkpoint/state-dict-map.ts';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');

describe.skipIf(!HAS_SHARED)('cli prune', () => {
  it('resumes a killed run and writes a loadable checkpoint in the target band', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfpgm-prune-'));
    const out = join(dir, 'pruned.pth');
    const args = ['src/cli/main.ts', 'prune', '--model', sharedPath('models/EResFD-original.pth'), '--widerface', sharedPath('widerface'),
      '--target', '0.3', '--bo-init', '2', '--bo-iter', '2', '--images', '16', '--size', '320', '--batch', '4',
      '--sfp-epochs', '1', '--finetune-epochs', '1', '--eval-images', '4', '--run-dir', dir, '--run-id', 'r', '--out', out, '--json'];
    const statePath = join(dir, 'r', 'state.json');
    const trialsIn = () => (existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')).bo.trials as Array<{ rates: number[]; objective: number }>) : []);

    // First attempt: killed (SIGKILL, no chance to clean up) once two trials are on disk.
    // One process (node --import tsx, not the tsx wrapper, whose node child would outlive a SIGKILL and go on
    // running the same run next to the resumed one — which the run lock now refuses).
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: 'ignore' });
    const killedAfter = await new Promise<Array<{ rates: number[]; objective: number }>>((resolve, reject) => {
      const timer = setInterval(() => {
        const t = trialsIn();
        if (t.length >= 2) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(t);
        }
      }, 200);
      child.on('exit', (code) => {
        clearInterval(timer);
        if (code !== null) reject(new Error(`prune exited (${code}) before it could be killed`));
      });
    });
    expect(existsSync(out)).toBe(false);

    const { stdout } = await run(TSX, args, { maxBuffer: 64 << 20 });
    const res = JSON.parse(stdout);
    const trials = trialsIn();
    expect(trials).toHaveLength(5);
    expect(trials.slice(0, killedAfter.length)).toEqual(killedAfter);
    expect(res.trials).toBe(5);
    expect(Math.abs(res.sparsity - 30)).toBeLessThan(4);
    expect(res.ap_before.images).toBe(4);
    expect(res.ap_after.images).toBe(4);
    // The default (laptop) recipe scores trials with forward passes only: training passes are the
    // 1 SFP + 1 fine-tune epoch over 13 of the 16 images (3 held out), whatever the kill interrupted.
    expect(res.recipe).toBe('laptop');
    expect(res.train_image_passes).toBe(2 * 13);
    expect(res.planned.train_image_passes).toBe(2 * 13);
    expect(res.forward_image_passes).toBeGreaterThan(0);
    expect(res.forward_image_passes).toBeLessThanOrEqual(res.planned.forward_image_passes);
    const sd = readCheckpoint(new Uint8Array(readFileSync(out))).stateDict;
    expect(() => validateEResFDStateDict(sd)).not.toThrow();
    const info = JSON.parse((await run(TSX, ['src/cli/main.ts', 'info', '--model', out, '--json'])).stdout);
    expect(info.sparsity).toBeCloseTo(res.sparsity, 9);
    expect(readFileSync(join(dir, 'r', 'trials.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
  }, 600_000); // two CLI processes (the killed one and the resumed one) on a busy 2-core CI machine
});
