/**
 * FPGM distance sums for a batch of convs, [B, n, d] → [B, n] with out[b, i] = Σ_j ‖x[b,i] − x[b,j]‖₂
 * (SPEC §3.3), dispatched by backend like tfjs-models' posenet `get_points_confidence.ts`: the WGSL
 * kernel of fpgm-distances-webgpu.ts on WebGPU, TF.js ops everywhere else (and on WebGPU when the
 * kernel fails its self-test, see ensureFpgmDistancesPath).
 *
 * The ops path uses ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b so the work is one batched matMul. That identity
 * cancels catastrophically for nearby filters: in float32 the squared distance carries an absolute
 * error of about ε·(‖a‖² + ‖b‖²), so a distance much smaller than √ε·‖a‖ ≈ 3e-4·‖a‖ is mostly noise.
 * Mitigations: filters are centred on their conv's mean first (distances are translation-invariant,
 * the norms shrink); ‖a‖² is read off the Gram's diagonal rather than from a separate sum of squares,
 * so for identical filters G_ii + G_jj − 2G_ij is exactly 0 (the same kernel produced all three;
 * with a separate reduction the residue was ~1e-4 per pair on the real checkpoint and broke exact ties
 * differently per row on WASM); negative squares are clamped to 0; the diagonal is zeroed outright.
 * Scores still differ from the host path's in the 7th digit; what must agree is the selection (tests
 * compare selections on the real checkpoint at rates 0.1…0.8, cpu and wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FpgmDistancesProgram } from './fpgm-distances-webgpu.ts';

export type FpgmDistancesPath = 'webgpu-kernel' | 'tf-ops';

/** The part of the WebGPU backend the kernel needs (structural, so no run-time import of the package). */
export type WebGpuProgramRunner = Pick<WebGPUBackend, 'runWebGPUProgram'>;

function isProgramRunner(backend: unknown): backend is WebGpuProgramRunner {
  return typeof (backend as { runWebGPUProgram?: unknown } | null)?.runWebGPUProgram === 'function';
}

/** Kernels that failed their self-test, per backend instance (a new device gets a new chance). */
const kernelVerdict = new WeakMap<object, boolean>();

/** Which path `fpgmDistanceSums` takes on a backend (default: the active one). */
export function fpgmDistancesPath(backendName: string = tf.getBackend(), backend: unknown = tf.backend()): FpgmDistancesPath {
  if (backendName !== 'webgpu' || !isProgramRunner(backend)) return 'tf-ops';
  return kernelVerdict.get(backend as object) === false ? 'tf-ops' : 'webgpu-kernel';
}

/** Pure TF.js ops, any backend. Returns a new tensor; intermediates are freed. */
export function fpgmDistanceSumsOps(x: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[1];
    const c = tf.sub(x, tf.mean(x, 1, true)); // [B, n, d]
    const gram = tf.matMul(c, c, false, true); // [B, n, n]
    // Norms from the Gram's own diagonal, not a separate reduction: the same kernel computes
    // G_ii, G_jj and G_ij, so identical filters cancel to exactly 0 and stay exactly tied.
    const sq = tf.sum(tf.mul(gram, tf.eye(n)), 2); // [B, n]
    const d2 = tf.sub(tf.add(tf.expandDims(sq, 2), tf.expandDims(sq, 1)), tf.mul(gram, 2));
    const offDiagonal = tf.sub(1, tf.eye(n)); // [n, n]
    return tf.sum(tf.mul(tf.sqrt(tf.relu(d2)), offDiagonal), 2) as tf.Tensor2D;
  });
}

/** The WGSL kernel on a WebGPU backend (or anything that runs WebGPUPrograms, e.g. a test double). */
export function fpgmDistanceSumsWebGpu(x: tf.Tensor3D, backend: WebGpuProgramRunner): tf.Tensor2D {
  const [batch, filters] = x.shape;
  const program = new FpgmDistancesProgram(batch, filters);
  const input = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  try {
    const out = backend.runWebGPUProgram(program, [input], 'float32');
    return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
  } finally {
    if (input !== x) input.dispose();
  }
}

/** Dispatcher: WebGPU kernel on WebGPU, TF.js ops elsewhere, or the path forced by `options.path`. */
export function fpgmDistanceSums(x: tf.Tensor3D, options: { path?: FpgmDistancesPath } = {}): tf.Tensor2D {
  if (x.rank !== 3) throw new RangeError(`fpgmDistanceSums expects [B, n, d], got [${x.shape.join(', ')}]`);
  const path = options.path ?? fpgmDistancesPath();
  if (path === 'webgpu-kernel') {
    const backend = tf.backend();
    if (!isProgramRunner(backend)) throw new Error(`the ${tf.getBackend()} backend cannot run WebGPU programs`);
    return fpgmDistanceSumsWebGpu(x, backend);
  }
  return fpgmDistanceSumsOps(x);
}

/** Relative tolerance of the kernel self-test: both paths are float32, the ops path loses √ε on near pairs. */
const SELF_TEST_TOLERANCE = 1e-3;

/**
 * On WebGPU, runs the kernel once per backend instance against the ops path on a small fixed batch
 * and falls back to ops for good when they disagree (a shader that failed to compile yields zeros,
 * not an exception). Resolves to the path `fpgmDistanceSums` will now take.
 */
export async function ensureFpgmDistancesPath(): Promise<FpgmDistancesPath> {
  const backend: unknown = tf.backend();
  if (fpgmDistancesPath() !== 'webgpu-kernel' || !isProgramRunner(backend) || kernelVerdict.has(backend)) return fpgmDistancesPath();
  const values = Float32Array.from({ length: 2 * 5 * 7 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)));
  const x = tf.tensor3d(values, [2, 5, 7]);
  let ok = false;
  try {
    const kernel = fpgmDistanceSumsWebGpu(x, backend);
    const ops = fpgmDistanceSumsOps(x);
    const [a, b] = await Promise.all([kernel.data(), ops.data()]);
    tf.dispose([kernel, ops]);
    ok = a.every((v, i) => Math.abs(v - b[i]!) <= SELF_TEST_TOLERANCE * Math.max(1, Math.abs(b[i]!)));
  } catch {
    ok = false;
  } finally {
    x.dispose();
  }
  kernelVerdict.set(backend, ok);
  return fpgmDistancesPath();
}
