/**
 * Backend choice: WebGPU → WebGL → WASM → CPU. A backend counts only if it initialises and passes a
 * self-test — a tiny strided conv with explicit padding, bias and ReLU, plus the nearest upsample the
 * FPN uses — whose output is checked against a plain-JS reference. A broken driver is skipped rather
 * than trusted. Backends must already be registered by the entry point (worker, CLI, test setup).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, type BackendName, type BackendProbe, type BackendSelection } from '../types.ts';
import { StudioError } from '../errors.ts';

export const DEFAULT_BACKEND_ORDER: BackendName[] = [...BACKEND_NAMES];

const H = 6, W = 6, CI = 2, CO = 3, K = 3, S = 2, P = 1;

function selfTestInputs(): { x: Float32Array; w: Float32Array; b: Float32Array } {
  const x = Float32Array.from({ length: H * W * CI }, (_, i) => ((i * 37) % 11) - 5);
  const w = Float32Array.from({ length: K * K * CI * CO }, (_, i) => ((i * 13) % 7) / 7 - 0.4);
  const b = Float32Array.from([0.5, -1, 0.25]);
  return { x, w, b };
}

/** Plain-JS conv (NHWC, HWIO, symmetric padding) + bias + ReLU, then nearest upsample to H×W. */
function selfTestExpected(): Float32Array {
  const { x, w, b } = selfTestInputs();
  const oh = Math.floor((H + 2 * P - K) / S) + 1;
  const ow = Math.floor((W + 2 * P - K) / S) + 1;
  const conv = new Float32Array(oh * ow * CO);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < CO; o++) {
        let acc = b[o]!;
        for (let ky = 0; ky < K; ky++) {
          for (let kx = 0; kx < K; kx++) {
            const iy = oy * S - P + ky, ix = ox * S - P + kx;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            for (let i = 0; i < CI; i++) acc += x[(iy * W + ix) * CI + i]! * w[((ky * K + kx) * CI + i) * CO + o]!;
          }
        }
        conv[(oy * ow + ox) * CO + o] = Math.max(acc, 0);
      }
    }
  }
  const up = new Float32Array(H * W * CO);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      const sy = Math.floor((y * oh) / H), sx = Math.floor((xx * ow) / W);
      for (let o = 0; o < CO; o++) up[(y * W + xx) * CO + o] = conv[(sy * ow + sx) * CO + o]!;
    }
  }
  return up;
}

/** Runs the self-test on the current backend; resolves to an error string or null. */
export async function runSelfTest(): Promise<string | null> {
  const { x, w, b } = selfTestInputs();
  const out = tf.tidy(() => {
    const y = tf.fused.conv2d({
      x: tf.tensor4d(x, [1, H, W, CI]),
      filter: tf.tensor4d(w, [K, K, CI, CO]),
      strides: S,
      pad: [[0, 0], [P, P], [P, P], [0, 0]],
      bias: tf.tensor1d(b),
      activation: 'relu',
    });
    return tf.image.resizeNearestNeighbor(y, [H, W], false, false);
  });
  try {
    const got = (await out.data()) as Float32Array;
    const want = selfTestExpected();
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i]! - want[i]!) <= 1e-3 * Math.max(1, Math.abs(want[i]!)))) {
        return `self-test output ${i} is ${got[i]}, expected ${want[i]}`;
      }
    }
    return null;
  } finally {
    out.dispose();
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export interface SelectBackendOptions {
  /**
   * Platform hook: a reason to pass over a backend that works but should not be the default (e.g. a
   * software WebGPU adapter, 50–100× slower than WASM), or null. Not consulted for the last candidate.
   */
  skip?: (name: BackendName) => Promise<string | null>;
}

/**
 * Activates the first backend of `order` that is registered, initialises and passes the self-test.
 * @throws StudioError BACKEND_UNAVAILABLE when none does.
 */
export async function selectBackend(order: BackendName[] = DEFAULT_BACKEND_ORDER, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const probes: BackendProbe[] = [];
  for (const [i, name] of order.entries()) {
    if (!tf.findBackendFactory(name)) {
      probes.push({ name, ok: false, error: 'not registered in this build' });
      continue;
    }
    const skipped = options.skip && i < order.length - 1 ? await options.skip(name).catch(() => null) : null;
    if (skipped) {
      probes.push({ name, ok: false, error: `skipped: ${skipped}` });
      continue;
    }
    const t0 = now();
    try {
      const ok = await tf.setBackend(name);
      if (!ok) throw new Error('initialisation failed');
      await tf.ready();
      const failure = await runSelfTest();
      if (failure) throw new Error(failure);
      probes.push({ name, ok: true, ms: now() - t0 });
      return { active: name, probes };
    } catch (e) {
      probes.push({ name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new StudioError('BACKEND_UNAVAILABLE', `no backend passed its self-test: ${probes.map((p) => `${p.name}: ${p.error}`).join('; ')}`);
}
