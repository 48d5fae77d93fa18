/** The `compact` CLI verb: JSON contract, written model.json + shard, and that they load back. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';
import { compact } from '../../src/cli/commands/compact.ts';
import { loadCompacted } from '../../src/core/compact/serialize.ts';
import { isStudioError } from '../../src/core/errors.ts';

async function captured(argv: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await compact(argv);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe.skipIf(!HAS_SHARED)('compact CLI', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bfpgm-compact-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the contract fields, writes model.json + group1-shard1of1.bin that load back', async () => {
    const out = JSON.parse(await captured(['--model', sharedPath('models', 'EResFD-60-pruned.pth'), '--out', dir, '--json', '--backend', 'wasm']));
    expect(Object.keys(out).slice(0, 5)).toEqual(['parameters_before', 'parameters_after', 'macs_before', 'macs_after', 'max_abs_diff']);
    expect(out.parameters_before).toBe(92208);
    expect(out.macs_before).toBe(295183680);
    expect(out.parameters_after).toBeLessThan(out.parameters_before);
    expect(out.macs_after).toBeLessThan(out.macs_before);
    expect(out.max_abs_diff).toBeLessThanOrEqual(1e-4);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(manifest.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);
    expect(manifest.modelTopology.source).toBe('EResFD-60-pruned.pth');
    const model = loadCompacted(manifest, new Uint8Array(await readFile(join(dir, 'group1-shard1of1.bin'))));
    expect(model.describe().macs480x640).toBe(out.macs_after);
    model.dispose();
  });

  it('--format onnx writes the compacted ONNX file (and --dense the dense one), checked in ONNX Runtime Web', async () => {
    const compacted = JSON.parse(await captured(['--model', sharedPath('models', 'EResFD-60-pruned.pth'), '--out', dir, '--format', 'onnx', '--json', '--backend', 'wasm']));
    const dense = JSON.parse(await captured(['--model', sharedPath('models', 'EResFD-60-pruned.pth'), '--out', dir, '--format', 'onnx', '--dense', '--json', '--backend', 'wasm']));
    expect(compacted.files).toEqual([join(dir, 'EResFD-60-pruned-compact.onnx')]);
    expect(dense.files).toEqual([join(dir, 'EResFD-60-pruned.onnx')]);
    for (const out of [compacted, dense]) expect(out.max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(dense.macs_after).toBe(dense.macs_before);
    expect(compacted.macs_after).toBeLessThan(compacted.macs_before);
    const [c, d] = await Promise.all([readFile(compacted.files[0]), readFile(dense.files[0])]);
    expect(c.length).toBeLessThan(d.length);
  }, 120_000);

  it('rejects --dense without --format onnx', async () => {
    let err: unknown;
    try {
      await compact(['--model', sharedPath('models', 'EResFD-60-pruned.pth'), '--out', dir, '--dense']);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
  });

  it('rejects an unknown strategy as a usage error', async () => {
    let err: unknown;
    try {
      await compact(['--model', sharedPath('models', 'EResFD-60-pruned.pth'), '--out', dir, '--strategy', 'magic']);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'USAGE')).toBe(true);
  });
});
