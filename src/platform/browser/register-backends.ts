/**
 * Registers every TF.js backend a browser can use and tells the WASM backend where Vite put its
 * binaries (plain, SIMD and threaded SIMD; the threaded one needs the COOP/COEP headers of vite.config),
 * and puts faster copy kernels on WASM.
 * Import once, from an entry point (worker, bench page) — never from core.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmCopyKernels } from '../../core/index.ts';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

// WASM's own Concat/Slice/SplitV allocate a typed array per copied row, its Identity copies the
// buffer and its nearest upsampling computes every index: see core/backend/kernels/wasm-copy.ts.
registerWasmCopyKernels();
