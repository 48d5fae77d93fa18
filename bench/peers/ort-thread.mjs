// A worker_thread holding its own ONNX Runtime Web instance: ORT's WASM thread count is fixed per
// instance, so "all threads" runs here while the main thread's instance runs with one. Messages:
// { onnx, threads } → 'ready'; { input, height, width } → ms of one run (outputs read).
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';

let session = null;
parentPort.on('message', async (m) => {
  try {
    if (m.onnx) {
      ort.env.wasm.numThreads = m.threads;
      session = await ort.InferenceSession.create(m.onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      parentPort.postMessage({ ready: true });
    } else if (m.release) {
      await session?.release();
      parentPort.postMessage({ released: true });
    } else {
      const t0 = performance.now();
      const out = await session.run({ input: new ort.Tensor('float32', m.input, [1, 3, m.height, m.width]) });
      const ms = performance.now() - t0;
      if (!(out.loc.data.length > 0)) throw new Error('no output');
      parentPort.postMessage({ ms });
    }
  } catch (e) {
    parentPort.postMessage({ error: String(e?.message ?? e) });
  }
});
