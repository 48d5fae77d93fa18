/** Registers the Node-capable backends (CPU, WASM) for tests and activates one through selectBackend. */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './tf-gradients.ts';
import { registerWasmTrainingKernels } from '../../src/core/backend/conv-grad.ts';
import { registerBatchNormTrainKernels } from '../../src/core/backend/kernels/batch-norm-train.ts';
import { registerCpuKernelFixes } from '../../src/core/backend/cpu-kernel-fixes.ts';
import { registerWasmCopyKernels } from '../../src/core/backend/kernels/wasm-copy.ts';
import { selectBackend } from '../../src/core/backend/select-backend.ts';
import type { BackendName } from '../../src/core/types.ts';

registerWasmTrainingKernels();
registerBatchNormTrainKernels();
registerWasmCopyKernels();
registerCpuKernelFixes();

export const NODE_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export async function useBackend(name: BackendName): Promise<void> {
  const sel = await selectBackend([name]);
  if (sel.active !== name) throw new Error(`backend ${name} not active`);
}
