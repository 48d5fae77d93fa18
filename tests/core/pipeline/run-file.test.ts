/**
 * The shareable run file: a finished run packed with its pruned weights reads back to the same
 * state and bytes; foreign, damaged, unfinished, oversized or inconsistent files are refused with
 * RUN_FILE_INVALID (or the checkpoint reader's own code) before anything is stored.
 */
import { describe, expect, it } from 'vitest';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../src/core/pipeline/config.ts';
import type { RunState } from '../../../src/core/pipeline/records.ts';
import { openRunFile, packRunFile, type RunFile } from '../../../src/core/pipeline/run-file.ts';

function finishedState(sparsity: number): RunState {
  const trial = (index: number, rates: number[]) => ({
    index, source: index === 0 ? 'probe' as const : 'random' as const, rates, sparsity: 0.3 + index / 100, macsRemoved: 0.2, penalty: 0,
    trained: true, valLoss: 3 + index, valLossL: 1, valLossC: 2, trainLoss: 4, objective: -3 - index, seconds: 1.5, duplicate: false,
  });
  return {
    format: 'bfpgm-run', version: 1, id: 'run-1', createdAt: '2026-12-04T14:05:00.000Z', updatedAt: '2026-12-04T14:15:00.000Z',
    config: DEFAULT_PIPELINE_CONFIG, stage: 'done', status: 'done',
    bo: { optimizer: null, trials: [trial(0, [0.34, 0.34, 0.34, 0.34, 0.34, 0.34]), trial(1, [0.1, 0.2, 0.3, 0.4, 0.5, 0.25])], bestRates: [0.34, 0.34, 0.34, 0.34, 0.34, 0.34] },
    epochs: [{ stage: 'sfp', epoch: 0, trainLoss: 4, valLoss: 3, valLossL: 1, valLossC: 2, imagesPerSec: 10, seconds: 2, lr: 1e-3, sparsity, pruned: true }],
    sfpEpochsDone: 1, finetuneEpochsDone: 0, plan: null,
    evaluation: { before: { easy: 0.9, medium: 0.88, hard: 0.75, images: 4, protocol: 'single' }, after: { easy: 0.8, medium: 0.8, hard: 0.6, images: 4, protocol: 'single' } },
    result: { sparsity, macsRemoved: 0.25, parameters: 92_208 },
  };
}

describe.skipIf(!HAS_SHARED)('run file', () => {
  const checkpoint = HAS_SHARED ? readShared('models', 'EResFD-30-pruned.pth') : new Uint8Array();
  const sparsity = HAS_SHARED ? describeModel(readCheckpoint(checkpoint).stateDict).sparsity / 100 : 0;
  const file = (): RunFile => ({
    exportedAt: '2026-12-04T15:00:00.000Z',
    run: { id: 'run-1', createdAt: 1_733_321_100_000, source: { modelName: 'EResFD-original.pth', datasetName: 'train 16', valDatasetName: 'val 4' }, state: finishedState(sparsity) },
    model: { name: 'B-FPGM 30 % · 4 Dec 14:05', checkpoint },
  });
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return isStudioError(e) ? e.code : `not a StudioError: ${String(e)}`;
    }
    return 'no error';
  };
  const rezip = (patch: (entries: Record<string, Uint8Array>) => void): Uint8Array => {
    const entries = unzipSync(packRunFile(file()));
    patch(entries);
    return zipSync(entries);
  };
  const patchJson = (edit: (j: { format: string; version: number; run: { state: RunState; id?: string } }) => void) =>
    rezip((e) => {
      const j = JSON.parse(new TextDecoder().decode(e['run.json']));
      edit(j);
      e['run.json'] = strToU8(JSON.stringify(j));
    });

  it('round-trips a finished run: state, source, model name and the exact checkpoint bytes', () => {
    const bytes = packRunFile(file());
    const opened = openRunFile(bytes);
    expect(opened.run.state).toEqual(finishedState(sparsity));
    expect(opened.run.source).toEqual(file().run.source);
    expect(opened.run.id).toBe('run-1');
    expect(opened.model.name).toBe('B-FPGM 30 % · 4 Dec 14:05');
    expect(Buffer.from(opened.model.checkpoint).equals(Buffer.from(checkpoint))).toBe(true);
    expect(opened.modelInfo.parameters).toBe(92_208);
    // People can read the records without the studio.
    const entries = unzipSync(bytes);
    expect(new TextDecoder().decode(entries['trials.csv']).trim().split('\n')).toHaveLength(3);
    expect(Object.keys(entries).sort()).toEqual(['epochs.csv', 'model.pth', 'run.json', 'trials.csv']);
  });

  it('refuses an unfinished run on export', () => {
    const f = file();
    f.run.state = { ...f.run.state, status: 'paused', stage: 'sfp' };
    expect(code(() => packRunFile(f))).toBe('NOT_FOUND');
  });

  it('refuses foreign and damaged files with a clear code', () => {
    expect(code(() => openRunFile(strToU8('{"format":"bfpgm-studio-run"}')))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(checkpoint))).toBe('RUN_FILE_INVALID'); // a .pth is a zip, but not a run
    const good = packRunFile(file());
    expect(code(() => openRunFile(good.subarray(0, Math.floor(good.length / 2))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(rezip((e) => (e['run.json'] = strToU8('{not json')))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.format = 'something-else'))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.version = 2))))).toMatch('RUN_FILE_INVALID');
    expect(code(() => openRunFile(rezip((e) => delete e['model.pth'])))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(rezip((e) => (e['model.pth'] = strToU8('garbage')))))).toMatch(/^CHECKPOINT_/);
  });

  it('refuses inconsistent contents: unfinished state, bad trials, weights of another sparsity', () => {
    expect(code(() => openRunFile(patchJson((j) => (j.run.state.status = 'running'))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.run.state.bo.trials[1]!.rates = [0.1, 0.2]))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.run.state.config.data.images = -3))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.run.state.evaluation.after = { easy: 7 } as never))))).toBe('RUN_FILE_INVALID');
    expect(code(() => openRunFile(patchJson((j) => (j.run.state.result!.sparsity = 0.5))))).toBe('RUN_FILE_INVALID');
  });

  it('enforces size limits before and while unpacking', () => {
    const bytes = packRunFile(file());
    expect(code(() => openRunFile(bytes, { maxBytes: bytes.length - 1 }))).toBe('RUN_FILE_INVALID');
    // 40 MB of zeros deflate to a few kB: refused from the header, never inflated.
    const bomb = zipSync({ 'run.json': new Uint8Array(40 * 1024 * 1024) });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(code(() => openRunFile(bomb))).toBe('RUN_FILE_INVALID');
  });
});
