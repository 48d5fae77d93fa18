/**
 * `prune --targets` at a tiny budget with two targets: one run per target, checkpoints named like the
 * released ones, and the paper's table (target, sparsity, AP Easy/Medium/Hard) as CSV and Markdown in
 * the run folder and on stdout, each row matching its run's own record and checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');

describe.skipIf(!HAS_SHARED)('cli prune --targets (sweep)', () => {
  it('runs each target and writes the table as CSV and Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfpgm-sweep-'));
    const out = join(dir, 'models');
    const args = ['src/cli/main.ts', 'prune', '--model', sharedPath('models/EResFD-original.pth'), '--widerface', sharedPath('widerface'),
      '--targets', '20,40', '--bo-init', '1', '--bo-iter', '1', '--images', '8', '--size', '64', '--batch', '4',
      '--sfp-epochs', '0', '--finetune-epochs', '0', '--eval-images', '2', '--run-dir', dir, '--run-id', 'sw', '--out', out];
    const { stdout } = await run(TSX, args, { maxBuffer: 64 << 20 });
    const md = readFileSync(join(dir, 'sw', 'sweep.md'), 'utf8');
    expect(stdout).toContain(md.trim());
    const csv = readFileSync(join(dir, 'sw', 'sweep.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(csv[0]).toEqual(['target', 'target_kind', 'sparsity', 'macs_removed', 'ap_easy', 'ap_medium', 'ap_hard', 'ap_images', 'protocol']);
    expect(csv.slice(1).map((r) => r[0])).toEqual(['20.00', '40.00']);
    for (const [i, target] of [20, 40].entries()) {
      const row = csv[i + 1]!;
      const state = JSON.parse(readFileSync(join(dir, `sw-t${target}`, 'state.json'), 'utf8'));
      expect(state.config.target).toBe(target / 100);
      expect(Number(row[2])).toBeCloseTo(100 * state.result.sparsity, 3);
      expect(Math.abs(Number(row[2]) - target)).toBeLessThan(6); // the search lands near its target
      expect(Number(row[4])).toBeCloseTo(100 * state.evaluation.after.easy, 3);
      expect(Number(row[6])).toBeCloseTo(100 * state.evaluation.after.hard, 3);
      expect(row[7]).toBe('2');
      const info = JSON.parse((await run(TSX, ['src/cli/main.ts', 'info', '--model', join(out, `EResFD-${target}-pruned.pth`), '--json'])).stdout);
      expect(info.sparsity).toBeCloseTo(100 * state.result.sparsity, 6);
    }
    expect(md.split('\n').filter((l) => l.startsWith('| '))).toHaveLength(4);
  });
});
