/**
 * FPGM importance (He et al. 2019, "Filter Pruning via Geometric Median"), as nni v3.0rc1's
 * FPGMPruner computes it (`DistMetricsCalculator(p=2)`, SPEC §3.3): each output filter of a conv is
 * one flattened vector F_i and its score is the sum of Euclidean distances to every filter of the same
 * conv, `metric[i] = Σ_j ‖F_i − F_j‖₂`. Filters near the geometric median score lowest and are pruned
 * first. Distances are taken on the raw weights (nni), not on |w|^p as Torch-Pruning's
 * FPGMImportance does; the golden test pins this.
 *
 * Two paths, one semantics:
 * - host: `fpgmScores` over a Float32Array, exact differences, float64 accumulation;
 * - tensors: `fpgmScoresTf` over a batch [B, n, d] on the active TF.js backend (WebGPU kernel or
 *   matMul-based ops, see backend/kernels/fpgm-distances.ts).
 * The flattening order of a filter does not matter (a distance is invariant to permuting coordinates),
 * so PyTorch [out, in·kh·kw] rows and TF.js HWIO columns give the same scores.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { fpgmDistanceSums } from '../../backend/kernels/fpgm-distances.ts';

/**
 * Host FPGM scores of `filters` filters stored row-major in `weights` ([filters, d], PyTorch layout).
 * Each difference and its square are rounded to float32 like torch's float32 arithmetic, the sums are
 * accumulated in float64. The float32 rounding matters for the original checkpoint's denormal filters
 * (golden/README.md): in float32 their mutual distances are exactly 0 and their distances to the other
 * filters exactly those of a zero filter, so they tie exactly as in the reference; in float64 they
 * would not. Every pair is computed once and each score adds its distances in ascending j, so equal
 * inputs give bit-identical scores.
 */
export function fpgmScores(weights: Float32Array, filters: number): Float64Array {
  const d = filters > 0 ? weights.length / filters : 0;
  if (!Number.isInteger(d)) throw new RangeError(`${weights.length} weights do not split into ${filters} filters`);
  const dist = new Float64Array(filters * filters);
  for (let i = 0; i < filters; i++) {
    const a = i * d;
    for (let j = i + 1; j < filters; j++) {
      const b = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) {
        // Difference and square rounded to float32 as torch computes them: squares of denormal
        // differences underflow to 0, which is what makes the reference's exact ties.
        const diff = Math.fround(weights[a + k]! - weights[b + k]!);
        s += Math.fround(diff * diff);
      }
      dist[i * filters + j] = dist[j * filters + i] = Math.sqrt(s);
    }
  }
  const scores = new Float64Array(filters);
  for (let i = 0; i < filters; i++) {
    let s = 0;
    for (let j = 0; j < filters; j++) s += dist[i * filters + j]!;
    scores[i] = s;
  }
  return scores;
}

/** FPGM scores of a batch of B convs with n filters of d weights each: [B, n, d] → [B, n]. */
export function fpgmScoresTf(filters: tf.Tensor3D): tf.Tensor2D {
  return fpgmDistanceSums(filters);
}
