/**
 * ONNX Runtime Web (WASM) running an exported EResFD: the CLI's check of its own ONNX export and the
 * bench's peer. Works in Node and in browsers; the core never imports a runtime.
 */
import * as ort from 'onnxruntime-web';
import { onnxExport } from '../../core/index.ts';

export interface OrtEResFD {
  /** Raw heads for one normalised NHWC image (the studio's layout). */
  run(nhwc: Float32Array, height: number, width: number): Promise<{ loc: Float32Array; conf: Float32Array }>;
  release(): Promise<void>;
}

/** ORT's thread count is process-wide and fixed by the first session; `threads` 0 = ORT's default (all cores). */
export async function createOrtEResFD(onnx: Uint8Array, threads = 1): Promise<OrtEResFD> {
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return {
    async run(nhwc, height, width) {
      const out = await session.run({ [onnxExport.ONNX_INPUT]: new ort.Tensor('float32', onnxExport.nhwcToNchw(nhwc, height, width), [1, 3, height, width]) });
      return { loc: out.loc!.data as Float32Array, conf: out.conf!.data as Float32Array };
    },
    release: () => session.release(),
  };
}
