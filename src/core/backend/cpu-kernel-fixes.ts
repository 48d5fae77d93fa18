/**
 * Corrections to TF.js 4.22 CPU-backend gradient kernels that training depends on.
 *
 * ResizeNearestNeighborGrad (the backward of the FPN's nearest upsampling, SPEC §1.4): the CPU
 * kernel offsets dy by `b · imageStride` instead of `b · dyStride`, so for batch > 1 every image
 * after the first gets the gradient of the wrong dy pixels (found comparing against WASM and a
 * scatter-add reference; WASM is correct). The replacement scatters each dy pixel onto the source
 * pixel the forward kernel read, with the forward's exact index arithmetic (align_corners and
 * half_pixel_centers included), which also makes it O(|dy|) instead of a window search.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface CpuBackendLike {
  data: { get(dataId: DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): TensorInfo;
}

/** Source row/col of every output row/col, as the CPU/WASM forward `ResizeNearestNeighbor` picks it. */
export function nearestSourceIndex(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const src = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
    let s = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) s = Math.max(0, s);
    src[o] = s;
  }
  return src;
}

const resizeNearestNeighborGrad: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as CpuBackendLike;
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = (attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const [batch, inH, inW, depth] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const rows = nearestSourceIndex(inH, outH, alignCorners, halfPixelCenters);
  const cols = nearestSourceIndex(inW, outW, alignCorners, halfPixelCenters);
  const dyValues = backend.data.get(dy.dataId).values as Float32Array;
  const out = new Float32Array(batch * inH * inW * depth);
  for (let n = 0; n < batch; n++) {
    for (let y = 0; y < outH; y++) {
      const srcRow = (n * inH + rows[y]!) * inW;
      const dyRow = (n * outH + y) * outW;
      for (let x = 0; x < outW; x++) {
        const o = (srcRow + cols[x]!) * depth;
        const i = (dyRow + x) * depth;
        for (let d = 0; d < depth; d++) out[o + d] += dyValues[i + d]!;
      }
    }
  }
  return backend.makeTensorInfo(images.shape, 'float32', out);
};

let registered = false;

/** Replaces the faulty CPU kernels (idempotent). Call from entry points that train on 'cpu'. */
export function registerCpuKernelFixes(): void {
  if (registered) return;
  // Replace, not add: registerKernel on an existing name only warns and overwrites.
  if (tf.getKernel('ResizeNearestNeighborGrad', 'cpu')) tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc: resizeNearestNeighborGrad });
  registered = true;
}
