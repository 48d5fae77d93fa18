/**
 * A resumed pipeline never writes the wrong model: a stage's missing weights are an error (never a
 * fallback to other weights), a stored run is resumed only with its own settings and pretrained model,
 * and only from a record this code reads (format, version, id, stage).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createMemoryRunStore, runPipeline, type PipelineConfigInput, type RunStore } from '../../../src/core/pipeline/index.ts';
import { DEFAULT_PIPELINE_CONFIG, pipelineConfigDifferences, validatePipelineConfig } from '../../../src/core/pipeline/config.ts';
import { isStudioError, type ErrorCode } from '../../../src/core/errors.ts';
import type { RunState } from '../../../src/core/pipeline/records.ts';
import type { StateDict } from '../../../src/core/types.ts';
import { widerEntries, widerSampleSource } from '../../../src/platform/node/wider-samples.ts';

const TINY: PipelineConfigInput = {
  target: 0.3,
  data: { images: 4, size: 64, batchSize: 2 },
  bo: { initPoints: 0, iterations: 0 },
  sfp: { epochs: 1, every: 1 },
  finetune: { epochs: 1, mode: 'masked' },
  evaluate: { images: 0 },
};

async function rejection(p: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isStudioError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a rejection');
}

/** The store with some weight tags gone (files deleted by hand). */
function withoutWeights(store: RunStore, gone: string[]): RunStore {
  return { ...store, loadWeights: async (id, tag) => (gone.includes(tag) ? null : store.loadWeights(id, tag)) };
}

describe('pipeline settings differences', () => {
  it('names each differing setting, a grouping by its id', () => {
    const a = validatePipelineConfig({ target: 0.3 });
    expect(pipelineConfigDifferences(a, validatePipelineConfig({ target: 0.3 }))).toEqual([]);
    const b = validatePipelineConfig({ target: 0.5, targetKind: 'macs', data: { images: 50 } });
    expect(pipelineConfigDifferences(a, b)).toEqual([
      { path: 'target', stored: 0.3, requested: 0.5 },
      { path: 'targetKind', stored: 'parameters', requested: 'macs' },
      { path: 'data.images', stored: DEFAULT_PIPELINE_CONFIG.data.images, requested: 50 },
    ]);
  });
});

describe.skipIf(!HAS_SHARED)('resuming a pipeline run', () => {
  let pretrained: StateDict;
  let other: StateDict;
  let pool: ReturnType<typeof widerSampleSource>;
  beforeAll(async () => {
    await useBackend('wasm');
    pretrained = readCheckpoint(readShared('models/EResFD-original.pth')).stateDict;
    other = readCheckpoint(readShared('models/EResFD-50-pruned.pth')).stateDict;
    const dir = sharedPath('widerface');
    pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: 4, seed: 0 }));
  });

  it('missing stage weights are an error at every stage that needs them, never the pretrained model', async () => {
    const store = createMemoryRunStore();
    const done = await runPipeline({ runId: 'r', pretrained, config: TINY, data: { pool }, store });
    expect(done.status).toBe('done');

    // A run stopped before its fine-tune stage, whose SFP weights were deleted.
    const atFinetune: RunState = { ...structuredClone(done), stage: 'finetune', status: 'paused', finetuneEpochsDone: 0, plan: null, result: null };
    await store.saveState(atFinetune);
    const sfpGone = await rejection(runPipeline({ runId: 'r', pretrained, data: { pool }, store: withoutWeights(store, ['sfp']) }));
    expect(sfpGone.code).toBe('RUN_WEIGHTS_MISSING');
    expect(sfpGone.message).toMatch(/run r: its sfp weights are missing/);

    // A run stopped before its export, whose fine-tune weights were deleted (it exported the pretrained model).
    await store.saveState({ ...structuredClone(done), stage: 'export', status: 'paused', result: null });
    const finetuneGone = await rejection(runPipeline({ runId: 'r', pretrained, data: { pool }, store: withoutWeights(store, ['finetune', 'sfp']) }));
    expect(finetuneGone.code).toBe('RUN_WEIGHTS_MISSING');
    expect(finetuneGone.message).toMatch(/finetune weights/);
    expect((await store.loadState('r'))!.status).toBe('failed');

    // Mid-SFP with its weights gone.
    await store.saveState({ ...structuredClone(done), stage: 'sfp', status: 'paused', sfpEpochsDone: 1, result: null });
    expect((await rejection(runPipeline({ runId: 'r', pretrained, data: { pool }, store: withoutWeights(store, ['sfp']) }))).code).toBe('RUN_WEIGHTS_MISSING');

    // With every file present the same export succeeds.
    await store.saveState({ ...structuredClone(done), stage: 'export', status: 'paused', result: null });
    expect((await runPipeline({ runId: 'r', pretrained, data: { pool }, store })).status).toBe('done');
  });

  it('refuses other settings or another pretrained model, and damaged or foreign records', async () => {
    const store = createMemoryRunStore();
    // A run paused as soon as it started: its state (settings, pretrained digest) is stored.
    const ctrl = new AbortController();
    await expect(runPipeline({
      runId: 'p', pretrained, config: TINY, data: { pool }, store, signal: ctrl.signal,
      onEvent: (e) => e.type === 'stage' && ctrl.abort(new DOMException('paused', 'AbortError')),
    })).rejects.toThrow();
    const stored = (await store.loadState('p'))!;
    expect(stored.status).toBe('paused');

    const flagName = (path: string) => ({ target: '--target', targetKind: '--target-kind' })[path] ?? path;
    const changed = await rejection(runPipeline({
      runId: 'p', pretrained, config: { ...TINY, target: 0.5, targetKind: 'macs' }, data: { pool }, store, settingName: flagName,
    }));
    expect(changed.code).toBe('RUN_CONFIG_MISMATCH');
    expect(changed.message).toContain('--target 0.3 (now 0.5)');
    expect(changed.message).toContain('--target-kind "parameters" (now "macs")');
    const model = await rejection(runPipeline({ runId: 'p', pretrained: other, config: TINY, data: { pool }, store }));
    expect(model.code).toBe('RUN_CONFIG_MISMATCH');
    expect(model.message).toMatch(/pretrained "model [0-9a-f]{8}" \(now "model [0-9a-f]{8}"\)/);
    // Refusals leave the stored run as it was.
    expect(await store.loadState('p')).toEqual(stored);

    const damaged: Array<[string, unknown, RegExp]> = [
      ['another version', { ...stored, version: 2 }, /has version 2; this studio reads version 1/],
      ['another format', { ...stored, format: 'bfpgm-training' }, /is not a bfpgm-run record/],
      ['another run', { ...stored, id: 'q' }, /belongs to run "q"/],
      ['an unknown stage', { ...stored, stage: 'polish' }, /unknown stage "polish"/],
    ];
    for (const [, record, message] of damaged) {
      const fake: RunStore = { ...createMemoryRunStore(), loadState: async () => structuredClone(record) as RunState };
      const e = await rejection(runPipeline({ runId: 'p', pretrained, data: { pool }, store: fake }));
      expect(e.code).toBe('RUN_STATE');
      expect(e.message).toMatch(message);
    }

    // The same settings resume.
    const resumed = await runPipeline({ runId: 'p', pretrained, config: TINY, data: { pool }, store });
    expect(resumed.status).toBe('done');
  });
});
