/** Backend selection: self-test, unregistered backends, the skip hook, and the error when none works. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '../../helpers/backends.ts';
import { runSelfTest, selectBackend } from '../../../src/core/backend/select-backend.ts';
import { isStudioError } from '../../../src/core/errors.ts';

describe('selectBackend', () => {
  it('activates the first working backend and reports every probe', async () => {
    const sel = await selectBackend(['webgpu', 'wasm', 'cpu']);
    expect(sel.active).toBe('wasm');
    expect(sel.probes[0]).toMatchObject({ name: 'webgpu', ok: false, error: 'not registered in this build' });
    expect(sel.probes[1]).toMatchObject({ name: 'wasm', ok: true });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('passes over a backend the platform hook rejects, except the last candidate', async () => {
    const sel = await selectBackend(['wasm', 'cpu'], { skip: async (n) => (n === 'wasm' ? 'software adapter' : null) });
    expect(sel.active).toBe('cpu');
    expect(sel.probes[0]!.error).toBe('skipped: software adapter');
    const last = await selectBackend(['wasm'], { skip: async () => 'software adapter' });
    expect(last.active).toBe('wasm');
  });

  it('self-test passes on a healthy backend and catches a broken kernel', async () => {
    await selectBackend(['cpu']);
    expect(await runSelfTest()).toBeNull();
    // Break resizeNearestNeighbor on a throwaway backend and check the self-test notices.
    const cpu = tf.findBackendFactory('cpu')!;
    tf.registerBackend('broken-cpu', cpu, 0);
    const kernel = tf.getKernel('ResizeNearestNeighbor', 'cpu')!;
    tf.registerKernel({ ...kernel, backendName: 'broken-cpu', kernelFunc: (args) => {
      const out = kernel.kernelFunc(args) as tf.TensorInfo;
      const backend = args.backend as unknown as { data: Map<unknown, { values: Float32Array }>; dataIdMap?: unknown };
      const vals = (backend as unknown as { data: { get(id: unknown): { values: Float32Array } } }).data.get(out.dataId).values;
      vals[0] = vals[0]! + 1;
      return out;
    } });
    for (const k of tf.getKernelsForBackend('cpu')) if (k.kernelName !== 'ResizeNearestNeighbor') tf.registerKernel({ ...k, backendName: 'broken-cpu' });
    await tf.setBackend('broken-cpu');
    expect(await runSelfTest()).toMatch(/self-test output 0/);
    await tf.setBackend('cpu');
    tf.removeBackend('broken-cpu');
  });

  it('throws BACKEND_UNAVAILABLE when nothing works', async () => {
    await expect(selectBackend(['webgl'])).rejects.toSatisfy((e) => isStudioError(e, 'BACKEND_UNAVAILABLE'));
  });
});
