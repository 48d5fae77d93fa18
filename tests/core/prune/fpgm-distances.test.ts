/**
 * The FPGM distance dispatcher (backend/kernels/fpgm-distances.ts) and the WGSL program's contract
 * with tfjs-backend-webgpu 4.22. WebGPU cannot run in Node here, so a stand-in backend named
 * `webgpu` (the CPU backend plus a `runWebGPUProgram` that evaluates the program's formula in JS)
 * exercises the dispatch, the self-test and the fallback; the browser test runs the real shader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  ensureFpgmDistancesPath,
  fpgmDistanceSums,
  fpgmDistanceSumsWebGpu,
  fpgmDistancesPath,
  type WebGpuProgramRunner,
} from '../../../src/core/backend/kernels/fpgm-distances.ts';
import { FpgmDistancesProgram, FPGM_WORKGROUP_SIZE } from '../../../src/core/backend/kernels/fpgm-distances-webgpu.ts';
import { useBackend } from '../../helpers/backends.ts';
import { fpgmScores } from '../../../src/core/prune/importance/fpgm.ts';
import { planFpgm, planFpgmTf } from '../../../src/core/prune/pruner.ts';
import { CODE_GROUPING } from '../../../src/core/prune/layer-groups.ts';
import { createRng } from '../../../src/core/util/random.ts';
import { syntheticStateDict } from './synthetic-state-dict.ts';

type Program = FpgmDistancesProgram;

/** A CPU backend that also "runs" FpgmDistancesPrograms: `mode` = what its kernel computes. */
class FakeWebGpuBackend extends MathBackendCPU implements WebGpuProgramRunner {
  programs: Program[] = [];
  constructor(private readonly mode: 'correct' | 'broken') {
    super();
  }
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo {
    this.programs.push(program);
    const [B, n, d] = inputs[0]!.shape as [number, number, number];
    const x = this.readSync(inputs[0]!.dataId) as Float32Array;
    const out = new Float32Array(B * n);
    if (this.mode === 'correct') {
      for (let b = 0; b < B; b++) out.set(fpgmScores(x.subarray(b * n * d, (b + 1) * n * d), n), b * n);
    }
    return { dataId: this.write(out, program.outputShape, outputDtype), shape: program.outputShape, dtype: outputDtype };
  }
}

function randomBatch(B: number, n: number, d: number, seed = 11): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: B * n * d }, () => rng() * 2 - 1);
}

describe('FpgmDistancesProgram (WebGPUProgram contract)', () => {
  it('has a flat dispatch covering one invocation per output element', () => {
    const p = new FpgmDistancesProgram(73, 16);
    expect(p.outputShape).toEqual([73, 16]);
    expect(p.variableNames).toEqual(['x']);
    expect(p.dispatchLayout).toEqual({ x: [0, 1] });
    expect(p.workgroupSize).toEqual([FPGM_WORKGROUP_SIZE, 1, 1]);
    expect(p.dispatch[1]).toBe(1);
    expect(p.dispatch[0] * FPGM_WORKGROUP_SIZE).toBeGreaterThanOrEqual(73 * 16);
    expect(p.size).toBe(true);
    expect(p.shaderKey).toBe('fpgmDistances');
    expect(new FpgmDistancesProgram(70_000, 64).dispatch[1]).toBeGreaterThan(1); // beyond 65535 workgroups
  });

  it('only uses helpers tfjs generates for a rank-3 input `x` and a rank-2 output', () => {
    const code = new FpgmDistancesProgram(2, 4).getUserCode();
    expect(code).toMatch(/fn main\(index : i32\)/); // flat layout ⇒ tfjs calls main(getGlobalIndex())
    expect(code).toMatch(/index < uniforms\.size/);
    expect(code).toMatch(/getCoordsFromIndex\(index\)/);
    expect(code).toMatch(/uniforms\.xShape\.y/);
    expect(code).toMatch(/uniforms\.xShape\.z/);
    expect(code).toMatch(/getX\(b, i, k\) - getX\(b, j, k\)/);
    expect(code).toMatch(/setOutputAtIndex\(index, total\)/);
    expect(code.split('{').length).toBe(code.split('}').length);
  });
});

describe('dispatcher', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    // The stand-in `webgpu` runs the CPU kernels for every ordinary op.
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'webgpu' });
  });
  afterAll(async () => {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    await useBackend('cpu');
  });

  async function useFakeWebGpu(mode: 'correct' | 'broken'): Promise<FakeWebGpuBackend> {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    const backend = new FakeWebGpuBackend(mode);
    tf.registerBackend('webgpu', () => backend);
    expect(await tf.setBackend('webgpu')).toBe(true);
    return backend;
  }

  it('takes the ops path off WebGPU and for backends that cannot run programs', async () => {
    await tf.setBackend('cpu');
    expect(fpgmDistancesPath()).toBe('tf-ops');
    expect(fpgmDistancesPath('webgpu', {})).toBe('tf-ops');
    expect(fpgmDistancesPath('webgl', new FakeWebGpuBackend('correct'))).toBe('tf-ops');
    expect(fpgmDistancesPath('webgpu', new FakeWebGpuBackend('correct'))).toBe('webgpu-kernel');
    expect(await ensureFpgmDistancesPath()).toBe('tf-ops');
    const x = tf.tensor3d(randomBatch(1, 4, 3), [1, 4, 3]);
    expect(() => fpgmDistanceSums(x, { path: 'webgpu-kernel' })).toThrow(/cannot run WebGPU programs/);
    x.dispose();
  });

  it('runs the kernel on WebGPU once it passes its self-test', async () => {
    const backend = await useFakeWebGpu('correct');
    expect(await ensureFpgmDistancesPath()).toBe('webgpu-kernel');
    const selfTestRuns = backend.programs.length;
    expect(selfTestRuns).toBe(1);
    const w = randomBatch(2, 8, 5);
    const x = tf.tensor3d(w, [2, 8, 5]);
    const before = tf.memory().numTensors;
    const out = fpgmDistanceSums(x);
    expect(backend.programs.length).toBe(selfTestRuns + 1);
    expect(backend.programs.at(-1)!.outputShape).toEqual([2, 8]);
    const got = out.dataSync();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    const want = [...fpgmScores(w.subarray(0, 40), 8), ...fpgmScores(w.subarray(40), 8)];
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));

    const sd = syntheticStateDict(2);
    const rates = [0.3, 0.3, 0.5, 0.5, 0.4, 0.45];
    expect(await planFpgmTf(sd, CODE_GROUPING, rates)).toEqual(planFpgm(sd, CODE_GROUPING, rates));
    expect(backend.programs.length).toBeGreaterThan(selfTestRuns + 1);
  });

  it('falls back to ops for good when the kernel fails its self-test', async () => {
    const backend = await useFakeWebGpu('broken');
    expect(fpgmDistancesPath()).toBe('webgpu-kernel');
    expect(await ensureFpgmDistancesPath()).toBe('tf-ops');
    expect(fpgmDistancesPath()).toBe('tf-ops');
    const runs = backend.programs.length;
    const sd = syntheticStateDict(3);
    const rates = [0.3, 0.3, 0.5, 0.5, 0.4, 0.45];
    expect(await planFpgmTf(sd, CODE_GROUPING, rates)).toEqual(planFpgm(sd, CODE_GROUPING, rates));
    expect(backend.programs.length).toBe(runs);
  });

  it('casts non-float inputs for the kernel and frees the cast', async () => {
    const backend = await useFakeWebGpu('correct');
    const x = tf.tensor3d([0, 1, 2, 3, 4, 5], [1, 3, 2], 'int32');
    const before = tf.memory().numTensors;
    const out = fpgmDistanceSumsWebGpu(x, backend);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(out.dtype).toBe('float32');
    tf.dispose([x, out]);
  });
});
