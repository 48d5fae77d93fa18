/** The CLI as a user runs it (a spawned `tsx src/cli/main.ts`), JSON contracts of `info` and `detect`. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';
import { readNpy } from '../helpers/npy.ts';
import { encodePng } from '../../src/platform/node/image-decoder.ts';
import { runCli as cli } from '../helpers/cli.ts';

describe.skipIf(!HAS_SHARED)('cli', () => {
  it('info --json reports parameters, sparsity and groups', async () => {
    const { stdout, code } = await cli('info', '--model', sharedPath('models/EResFD-50-pruned.pth'), '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.parameters).toBe(92_208);
    expect(out.sparsity).toBeCloseTo(50.37, 1);
    expect(out.groups).toHaveLength(6);
    expect(out.groups[0]).toMatchObject({ name: 'stem', parameters: 2392 });
  });

  it('detect --json finds the astronaut face in original pixels', async () => {
    const a = readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy'));
    const dir = mkdtempSync(join(tmpdir(), 'bfpgm-cli-'));
    const png = join(dir, 'astronaut.png');
    writeFileSync(png, encodePng({ width: a.shape[1]!, height: a.shape[0]!, channels: 3, data: a.data as Uint8Array }));
    const { stdout, code } = await cli('detect', '--model', sharedPath('models/EResFD-original.pth'), '--image', png, '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ image: png, width: 512, height: 512, shrink: 1 });
    const [x1, y1, x2, y2, s] = out.detections[0];
    expect(s).toBeGreaterThan(0.99);
    expect(Math.abs(x1 - 179.07)).toBeLessThan(0.5);
    expect(Math.abs(y1 - 60.04)).toBeLessThan(0.5);
    expect(Math.abs(x2 - 274.8)).toBeLessThan(0.5);
    expect(Math.abs(y2 - 176.29)).toBeLessThan(0.5);
    const scores = out.detections.map((d: number[]) => d[4]);
    expect([...scores].sort((p, q) => q - p)).toEqual(scores);
  });

  it('bad input gives a clear error and exit code 1, unknown verb exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfpgm-cli-'));
    const junk = join(dir, 'junk.pth');
    writeFileSync(junk, Buffer.from('definitely not a checkpoint'));
    const bad = await cli('info', '--model', junk);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error \[CHECKPOINT_/);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown verb/);
  });
});
