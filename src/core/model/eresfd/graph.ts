/**
 * The EResFD forward graph (B-FPGM wiring), written once over an abstract set of layer operations so
 * that inference (BN folded into fused convs) and training (BN with batch statistics) share it.
 * Mirrors `eresfd_16.py`, `sepfpn.FullySepFPN` (B-FPGM version) and `EResFD.custom_forward_head`
 * (SPEC §1.2–1.5). Tensors are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reshapeView } from '../../backend/reshape-view.ts';
import { addTapeLight, concatTapeLight, weightedSumTapeLight } from '../../backend/tape-light.ts';
import { CONV_BY_NAME, STAGE_BLOCKS, type ConvSpec } from './architecture.ts';
import { FPN_EPS } from './constants.ts';

/**
 * How a conv (+BN) (+ReLU) is computed and where the FPN fusion weights come from; the graph never
 * touches weights directly.
 */
export type LayerOps = {
  /** Conv → BN → optional ReLU (per `spec.relu`). */
  convBn(spec: ConvSpec, x: tf.Tensor4D): tf.Tensor4D;
  /**
   * The 1x1 loc and conf head convs (with bias) of one level, both reading x, as one map
   * [B, h, w, loc + conf]: loc's channels first. One conv per level; the split happens once, on the
   * flattened heads of all levels.
   */
  heads(loc: ConvSpec, conf: ConvSpec, x: tf.Tensor4D): tf.Tensor4D;
} & (
  | {
    /** FPN fusion weights `w1` [2, 9], normalised on the device (training: `w1` has a gradient). */
    fpnWeights(): tf.Tensor2D;
    fusionCoefficients?: never;
  }
  | {
    /**
     * The fusions' coefficients on the host ({@link fusionCoefficients} of a constant `w1`, i.e.
     * inference): fusion j is a·x + b·y, without normalising `w1` on the device every frame. The
     * convs that {@link fusionConvScales} names must come with those scales folded into their weights.
     */
    fusionCoefficients: ReadonlyArray<readonly [number, number]>;
    fpnWeights?: never;
  }
);

export interface GraphOptions {
  /**
   * Run the dead `layer5` (its output reaches nothing, SPEC §1.4). Inference skips it; training runs it
   * because PyTorch updates its BN running statistics in train mode.
   */
  runDeadLayer5?: boolean;
  /** Also return the FEM outputs S0..S5 (for tests against `sources.npz`). */
  keepSources?: boolean;
  /** Also return the per-level head maps (`locLevels`, `confLevels`): one split per level more. */
  levels?: boolean;
}

// A type alias (not an interface) so a GraphOutput is a TensorContainer and can leave tf.tidy.
export type GraphOutput = {
  /** [B, P, 4] box regressions, levels 0..5 concatenated, row = offset_k + y·W_k + x. */
  loc: tf.Tensor3D;
  /** [B, P, 2] raw logits (background, face); level 0 after the background max-out. */
  conf: tf.Tensor3D;
  /** Per-level head maps [B, h, w, 4|2] (NHWC), before flattening; only with `levels`. */
  locLevels?: tf.Tensor4D[];
  confLevels?: tf.Tensor4D[];
  sources?: tf.Tensor4D[];
};

const spec = (name: string): ConvSpec => CONV_BY_NAME.get(name)!;

function convBlock(ops: LayerOps, prefix: string, x: tf.Tensor4D, withShortcut: boolean): tf.Tensor4D {
  const y = ops.convBn(spec(`${prefix}.res_layer.3`), ops.convBn(spec(`${prefix}.res_layer.0`), x));
  const shortcut = withShortcut ? ops.convBn(spec(`${prefix}.shortcut_layer.0`), x) : x;
  return addTapeLight(y, shortcut); // no ReLU after the add
}

function stage(ops: LayerOps, index: number, x: tf.Tensor4D): tf.Tensor4D {
  let y = x;
  for (let b = 0; b < STAGE_BLOCKS[index - 1]!; b++) y = convBlock(ops, `base.m0.layer${index}.${b}`, y, b === 0);
  return y;
}

/** Nearest resize with PyTorch's index rule src = floor(dst·in/out) (SPEC §1.4, §10.4). */
function nearestTo(u: tf.Tensor4D, like: tf.Tensor4D): tf.Tensor4D {
  const [h, w] = [like.shape[1], like.shape[2]];
  if (u.shape[1] === h && u.shape[2] === w) return u;
  return tf.image.resizeNearestNeighbor(u, [h, w], false, false);
}

function fem(ops: LayerOps, index: number, x: tf.Tensor4D): tf.Tensor4D {
  const p = `base.m0.layer${7 + index}`;
  const r1 = ops.convBn(spec(`${p}.res_branch1.0`), x);
  const r2 = ops.convBn(spec(`${p}.res_branch2.3`), ops.convBn(spec(`${p}.res_branch2.0`), r1));
  const r3 = ops.convBn(spec(`${p}.res_branch3.3`), ops.convBn(spec(`${p}.res_branch3.0`), r2));
  return concatTapeLight([r1, r2, r3], 3);
}

/**
 * Level 0's background max-out over the first three conf channels (maxout_bg_size = 3) of its heads
 * [loc 4, conf 4] → [loc 4, bg, face], as pairwise maxima: their gradient goes to the first maximal
 * channel like torch.max's (tf.max's goes to every tied channel, through a broadcasting comparison
 * that is slow on WASM).
 */
function backgroundMaxOut(heads: tf.Tensor4D): tf.Tensor4D {
  const [loc, c0, c1, c2, face] = tf.split(heads, [4, 1, 1, 1, 1], 3);
  return concatTapeLight([loc!, tf.maximum(tf.maximum(c0!, c1!), c2!), face!], 3) as tf.Tensor4D;
}

type Fusion = (a: tf.Tensor4D, b: tf.Tensor4D, j: number) => tf.Tensor4D;

/**
 * FPN fusion j (`td`/`agg` of FullySepFPN): (wn0·a + wn1·b) / (wn0 + wn1 + eps) with
 * wn = relu(w1) / (Σ_rows relu(w1) + eps), column j — computed as a·x + b·y with the coefficients
 * of all nine fusions normalised at once on the device (a = wn0 / (wn0 + wn1 + eps), as
 * {@link fusionCoefficients} on the host): equal up to float32 rounding, and per fusion one
 * weighted sum instead of three products, two sums and a division, each with TF.js's gradient.
 */
function weightedFusion(w: tf.Tensor2D): Fusion {
  const wr = tf.relu(w);
  const wn = tf.div(wr, tf.add(tf.sum(wr, 0, true), FPN_EPS)); // column-wise normalisation
  const coefficients = tf.div(wn, tf.add(tf.sum(wn, 0, true), FPN_EPS)); // [2, 9]: a_j, b_j
  const [a, b] = tf.unstack(coefficients) as [tf.Tensor1D, tf.Tensor1D];
  const ca = tf.unstack(a) as tf.Scalar[], cb = tf.unstack(b) as tf.Scalar[];
  return (x, y, j) => weightedSumTapeLight(x, y, ca[j]!, cb[j]!);
}

/** Fusion j whose first operand is a conv of {@link fusionConvScales}: a was folded into it. */
const FOLDED_FUSIONS = new Set([0, 1, 2, 3, 5, 6, 7, 8]);

/**
 * The same fusion with its coefficients folded on the host: a·x + b·y, where a·x came pre-scaled
 * from its conv (FOLDED_FUSIONS) and fusion 4, h0 = a·L4 + b·L4, is L4 itself: its only reader,
 * itm.3, takes the factor a + b on its input. Two kernels per fusion instead of three, none for h0.
 */
function constantFusion(coefficients: ReadonlyArray<readonly [number, number]>): Fusion {
  return (a, b, j) => {
    if (j === 4) return a;
    const [ca, cb] = coefficients[j]!;
    const scaled = FOLDED_FUSIONS.has(j) ? a : tf.mul(a, ca);
    return (cb === 0 ? scaled : tf.add(scaled, cb === 1 ? b : tf.mul(b, cb))) as tf.Tensor4D;
  };
}

/** How a conv's weights are scaled so that the inference graph's fusions need no multiply of their own. */
export interface ConvScale {
  /** Factor on the conv's input (filter and removed-input contributions; not its bias). */
  input: number;
  /** Factor on the conv's output (filter, bias, removed-input contributions). */
  output: number;
}

/**
 * The convs whose outputs (laterals 0–3 and itm 0–3: the first operand of fusions 0–3, 5–8) or
 * input (itm.3 reads h0 = (a₄ + b₄)·L4) absorb the FPN fusion coefficients of the inference graph.
 * A conv is linear in its input and BN-folded weights are (W, bias), so conv(s·x) = (s·W)·x + bias and
 * s·conv(x) = (s·W)·x + s·bias.
 */
export function fusionConvScales(coefficients: ReadonlyArray<readonly [number, number]>): ReadonlyMap<string, ConvScale> {
  const fpn = 'base.m0.layer6';
  const scales = new Map<string, ConvScale>();
  for (let i = 0; i < 4; i++) scales.set(`${fpn}.laterals.${i}.conv.0`, { input: 1, output: coefficients[i]![0] });
  for (let k = 0; k < 4; k++) scales.set(`${fpn}.itm.${k}.conv.0`, { input: 1, output: coefficients[5 + k]![0] });
  const [a4, b4] = coefficients[4]!;
  scales.get(`${fpn}.itm.3.conv.0`)!.input = a4 + b4;
  return scales;
}

/**
 * Coefficients (a, b) of each FPN fusion column j, so that fusion j = a·x + b·y:
 * a = wn0 / (wn0 + wn1 + eps) with wn = relu(w1) / (Σ_rows relu(w1) + eps), in float64.
 * A coefficient is exactly 0 iff the raw weight is ≤ 0 (then relu zeroes it on every backend).
 */
export function fusionCoefficients(w1: Float32Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let j = 0; j < 9; j++) {
    const r0 = Math.max(w1[j]!, 0);
    const r1 = Math.max(w1[9 + j]!, 0);
    const n0 = r0 / (r0 + r1 + FPN_EPS);
    const n1 = r1 / (r0 + r1 + FPN_EPS);
    const d = n0 + n1 + FPN_EPS;
    out.push([n0 / d, n1 / d]);
  }
  return out;
}

/** Runs the network on a normalised NHWC batch [B, H, W, 3] (SPEC §1.7). Call inside tf.tidy. */
export function runGraph(ops: LayerOps, x: tf.Tensor4D, options: GraphOptions = {}): GraphOutput {
  let c = ops.convBn(spec('base.conv1.0'), x);
  c = ops.convBn(spec('base.conv2.0'), c);
  c = ops.convBn(spec('base.conv3.0'), c);
  const c0 = convBlock(ops, 'base.conv4', c, false);
  const c1 = stage(ops, 1, c0);
  const c2 = stage(ops, 2, c1);
  const c3 = stage(ops, 3, c2);
  const c4 = stage(ops, 4, c3);
  if (options.runDeadLayer5) stage(ops, 5, c4);

  // FPN, B-FPGM wiring: c5 has no lateral and h0 = td(L4, L4) (SPEC §1.4 quirk).
  const fpn = 'base.m0.layer6';
  const fuse = ops.fusionCoefficients ? constantFusion(ops.fusionCoefficients) : weightedFusion(ops.fpnWeights!());
  const sources = [c0, c1, c2, c3, c4];
  const lat = sources.map((s, i) => ops.convBn(spec(`${fpn}.laterals.${i}.conv.0`), s));
  const h0 = fuse(lat[4]!, nearestTo(lat[4]!, lat[4]!), 4);
  const p3 = fuse(lat[3]!, nearestTo(c4, lat[3]!), 3);
  const p2 = fuse(lat[2]!, nearestTo(p3, lat[2]!), 2);
  const p1 = fuse(lat[1]!, nearestTo(p2, lat[1]!), 1);
  const p0 = fuse(lat[0]!, nearestTo(p1, lat[0]!), 0);
  const q1 = fuse(ops.convBn(spec(`${fpn}.itm.0.conv.0`), p1), c1, 5);
  const q2 = fuse(ops.convBn(spec(`${fpn}.itm.1.conv.0`), p2), c2, 6);
  const q3 = fuse(ops.convBn(spec(`${fpn}.itm.2.conv.0`), p3), c3, 7);
  const q4 = fuse(ops.convBn(spec(`${fpn}.itm.3.conv.0`), h0), c4, 8);
  const pyramid = [p0, q1, q2, q3, q4, lat[4]!];

  const femOut = pyramid.map((p, i) => fem(ops, i, p));
  const locLevels: tf.Tensor4D[] = [];
  const confLevels: tf.Tensor4D[] = [];
  const batch = x.shape[0];
  const flat: tf.Tensor3D[] = [];
  femOut.forEach((s, i) => {
    // The heads read relu(S); every FEM branch ends in a ReLU, so S ≥ 0 and that ReLU is the
    // identity — and so is its gradient, which is 0 only where the branch's own ReLU already gave 0.
    const raw = ops.heads(spec(`loc.${i}`), spec(`conf.${i}`), s);
    const heads = i === 0 ? backgroundMaxOut(raw) : raw; // [B, h, w, 4 + 2]
    if (options.levels) {
      const [l, cf] = tf.split(heads, [4, 2], 3) as [tf.Tensor4D, tf.Tensor4D];
      locLevels.push(l);
      confLevels.push(cf);
    }
    flat.push(reshapeView(heads, [batch, heads.shape[1] * heads.shape[2], 6]));
  });
  const [loc, conf] = tf.split(concatTapeLight(flat, 1), [4, 2], 2) as [tf.Tensor3D, tf.Tensor3D];
  const out: GraphOutput = { loc, conf };
  if (options.levels) Object.assign(out, { locLevels, confLevels });
  if (options.keepSources) out.sources = femOut;
  return out;
}
