/** The `fpgm` CLI verb: rate parsing, JSON output, and `info` on the written checkpoint. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAS_SHARED, readSharedJson, sharedPath } from '../helpers/shared.ts';
import { fpgm, parseRates, type FpgmCliResult } from '../../src/cli/commands/fpgm.ts';
import { info } from '../../src/cli/commands/info.ts';
import { isStudioError } from '../../src/core/errors.ts';

/** Runs a verb and returns what it printed (its --json line). */
async function captured(run: (argv: string[]) => Promise<void>, argv: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await run(argv);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('parseRates', () => {
  it('reads fractions, README-style percent rows, and % suffixes', () => {
    expect(parseRates('0.3,0,0.5', 3)).toEqual([0.3, 0, 0.5]);
    // p / 100 on doubles, as the reference turned README percents into rates (0.47100000000000003).
    expect(parseRates('20,0,7.9,20,20,17.2', 6)).toEqual([20, 0, 7.9, 20, 20, 17.2].map((p) => p / 100));
    expect(parseRates('0.8,5.2,47.2,60,24.4,46.4', 6)).toEqual([0.8, 5.2, 47.2, 60, 24.4, 46.4].map((p) => p / 100));
    expect(parseRates('0.8%,0,0.5', 3)).toEqual([0.008, 0, 0.5]);
  });
  it.each([['0.1,0.2', 3], ['1,0,0', 3], ['0.1,x,0.2', 3], ['100,0,0', 3], ['-5,10,0', 3]])('rejects %s with CONFIG_INVALID', (text, n) => {
    let err: unknown;
    try {
      parseRates(text, n);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
  });
});

describe.skipIf(!HAS_SHARED)('fpgm verb on the original checkpoint', () => {
  let dir: string;
  const model = sharedPath('models', 'EResFD-original.pth');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fpgm-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the golden sparsity, and info on the written file reports the same', async () => {
    const golden = readSharedJson<{ runs: Record<string, { calc_sparsity_pct: number }> }>('golden', 'fpgm_golden.json').runs;
    const out = join(dir, 'pruned30-released.pth');
    const printed = JSON.parse(await captured(fpgm, ['--model', model, '--rates', '21.3,4.5,30.5,47.1,32.1,44.8', '--groups', 'released', '--out', out, '--json'])) as FpgmCliResult;
    expect(Math.abs(printed.sparsity - golden['inferred_groups/README_30']!.calc_sparsity_pct)).toBeLessThanOrEqual(1e-6);
    expect(printed.groups.map((g) => g.name)).toEqual(['conv1-2', 'conv3-4', 'layer1-2', 'layer3-5', 'fpn', 'fem']);
    expect(printed.groups.map((g) => g.zeroed_filters)).toEqual([2, 0, 56, 119, 45, 42]);
    expect(printed.zeroed['base.conv1.0.weight']).toEqual([5]);
    expect(Object.values(printed.zeroed).reduce((a, v) => a + v.length, 0)).toBe(264);
    const card = JSON.parse(await captured(info, ['--model', out, '--json'])) as { sparsity: number };
    expect(card.sparsity).toBe(printed.sparsity);
  });

  it('works as a spawned command (npm run cli path)', async () => {
    const out = join(dir, 'pruned-code.pth');
    const run = promisify(execFile);
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const a = await run(tsx, ['src/cli/main.ts', 'fpgm', '--model', model, '--rates', '0.2,0.1,0.3,0.4,0.3,0.4', '--out', out, '--json']);
    const b = await run(tsx, ['src/cli/main.ts', 'info', '--model', out, '--json']);
    const printed = JSON.parse(a.stdout) as FpgmCliResult;
    expect(printed.grouping).toBe('code');
    expect(printed.sparsity).toBeGreaterThan(10);
    expect((JSON.parse(b.stdout) as { sparsity: number }).sparsity).toBe(printed.sparsity);
  });
});
