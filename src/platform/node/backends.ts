/** Backends available to Node entry points (CLI, bench): WASM (fast path), the pure-JS CPU backend, and WebGPU through Dawn on request. */
import '@tensorflow/tfjs-backend-cpu';
// Gradient functions: tfjs-core's Node (CJS) bundle ships without them; the umbrella package's Node
// bundle registers them into the shared registry (see tests/helpers/tf-gradients.ts).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuKernelFixes, registerWasmCopyKernels, registerWasmTrainingKernels, registerBatchNormTrainKernels, selectBackend, type BackendName, type BackendSelection } from '../../core/index.ts';

// WASM has no conv backprop kernels in 4.22 and slow copy kernels; the CPU backend's nearest-resize
// gradient is wrong for batch > 1.
registerWasmTrainingKernels();
registerBatchNormTrainKernels();
registerWasmCopyKernels();
registerCpuKernelFixes();

export const NODE_BACKEND_ORDER: BackendName[] = ['wasm', 'cpu'];

/** `webgpu` (Dawn, see webgpu.ts) is installed on demand: only when asked for. */
export async function selectNodeBackend(preferred?: string): Promise<BackendSelection> {
  if (preferred === 'webgpu') {
    const { installNodeWebGPU } = await import('./webgpu.ts');
    await installNodeWebGPU();
  }
  const order = preferred ? [preferred as BackendName] : NODE_BACKEND_ORDER;
  return selectBackend(order);
}
