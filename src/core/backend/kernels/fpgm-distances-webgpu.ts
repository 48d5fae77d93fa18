/**
 * WGSL compute kernel for FPGM distance sums on TF.js's WebGPU backend (tfjs-backend-webgpu 4.22
 * `WebGPUProgram`, dispatched with `backend.runWebGPUProgram`; pattern of tfjs-models
 * `pose-detection/src/posenet/ops/get_points_confidence_webgpu.ts`).
 *
 * Input `x` [B, n, d]: B convs, n filters each, d weights per filter. Output [B, n]:
 * `out[b, i] = Σ_{j≠i} sqrt(Σ_k (x[b,i,k] − x[b,j,k])²)`. One invocation per (b, i); it forms the
 * differences directly, so unlike the matMul identity of the ops path there is no cancellation, and
 * it adds the distances in ascending j like the host path. Sizes come from the uniforms tfjs fills
 * (`xShape`, `size`), so one compiled pipeline serves every batch shape (the shader key only encodes
 * ranks and dtypes). Only the package's types are imported: importing it at run time would register
 * the backend, which is the entry point's job.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const FPGM_WORKGROUP_SIZE = 64;
/** WebGPU's guaranteed `maxComputeWorkgroupsPerDimension`; tfjs reshapes larger dispatches itself. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export class FpgmDistancesProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey = 'fpgmDistances';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['x'];
  workgroupSize: [number, number, number] = [FPGM_WORKGROUP_SIZE, 1, 1];
  /** Asks tfjs for the `uniforms.size` (= B·n) bound check. */
  size = true;

  constructor(batch: number, filters: number) {
    this.outputShape = [batch, filters];
    // Flat layout: both output axes map to global x, so `main` receives the flat output index.
    this.dispatchLayout = { x: [0, 1] };
    const workgroups = Math.ceil((batch * filters) / FPGM_WORKGROUP_SIZE);
    this.dispatch = workgroups <= MAX_WORKGROUPS_PER_DIMENSION
      ? [workgroups, 1, 1]
      : [MAX_WORKGROUPS_PER_DIMENSION, Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIMENSION), 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let b = coords.x;
          let i = coords.y;
          let n = uniforms.xShape.y;
          let d = uniforms.xShape.z;
          var total : f32 = 0.0;
          for (var j : i32 = 0; j < n; j = j + 1) {
            if (j == i) {
              continue;
            }
            var acc : f32 = 0.0;
            for (var k : i32 = 0; k < d; k = k + 1) {
              let diff = getX(b, i, k) - getX(b, j, k);
              acc = acc + diff * diff;
            }
            total = total + sqrt(acc);
          }
          setOutputAtIndex(index, total);
        }
      }
    `;
  }
}
