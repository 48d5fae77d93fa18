/**
 * Box helpers of the loss, mirroring `layers/bbox_utils.py` (`point_form`, `jaccard`, `encode`) in
 * float32 arithmetic: every intermediate goes through Math.fround in the same order PyTorch evaluates
 * it, so IoUs compared against the 0.1 / 0.35 / 0.5 thresholds round exactly like the reference
 * (a prior whose IoU sits on a threshold must fall on the same side).
 *
 * Layouts: priors are `[P, 4]` (cx, cy, w, h) row-major; truths are `[n, 4]` or `[n, 5]` rows
 * (x1, y1, x2, y2[, label]) normalised to the input size.
 */

const f = Math.fround;

/** SSD variances (SPEC §5 VARIANCE). */
export const VARIANCES: readonly [number, number] = [0.1, 0.2];

/** `point_form`: (cx, cy, w, h) → (x1, y1, x2, y2), float32. `[P,4]` → `[P,4]`. */
export function pointForm(priors: Float32Array): Float32Array {
  const out = new Float32Array(priors.length);
  for (let i = 0; i < priors.length; i += 4) {
    const hw = priors[i + 2]! / 2; // exact in float32
    const hh = priors[i + 3]! / 2;
    out[i] = f(priors[i]! - hw);
    out[i + 1] = f(priors[i + 1]! - hh);
    out[i + 2] = f(priors[i]! + hw);
    out[i + 3] = f(priors[i + 1]! + hh);
  }
  return out;
}

/** Area of a point-form box, float32 as `(x2 − x1)·(y2 − y1)` (no +1: normalised coordinates). */
export function boxArea(x1: number, y1: number, x2: number, y2: number): number {
  return f(f(x2 - x1) * f(y2 - y1));
}

/**
 * IoU of box a and box b given their float32 areas, as `jaccard`: `inter / (area_a + area_b − inter)`
 * with the intersection clamped at 0 per side.
 */
export function iouWithAreas(
  ax1: number, ay1: number, ax2: number, ay2: number, areaA: number,
  bx1: number, by1: number, bx2: number, by2: number, areaB: number,
): number {
  const iw = f(Math.min(ax2, bx2) - Math.max(ax1, bx1));
  if (iw <= 0) return 0;
  const ih = f(Math.min(ay2, by2) - Math.max(ay1, by1));
  if (ih <= 0) return 0;
  const inter = f(iw * ih);
  return f(inter / f(f(areaA + areaB) - inter));
}

/**
 * `encode(matched, priors, variances)` for one prior, written into `out[o..o+4]`:
 * `((x1+x2)/2 − cx) / (v0·w)`, …, `log((x2−x1)/w) / v1`, …, in float32.
 */
export function encodeInto(
  out: Float32Array, o: number,
  x1: number, y1: number, x2: number, y2: number,
  pcx: number, pcy: number, pw: number, ph: number,
): void {
  const v0 = f(VARIANCES[0]);
  const v1 = f(VARIANCES[1]);
  out[o] = f(f(f(x1 + x2) / 2 - pcx) / f(v0 * pw));
  out[o + 1] = f(f(f(y1 + y2) / 2 - pcy) / f(v0 * ph));
  out[o + 2] = f(f(Math.log(f(f(x2 - x1) / pw))) / v1);
  out[o + 3] = f(f(Math.log(f(f(y2 - y1) / ph))) / v1);
}
