/**
 * A training-sample preparation worker (see prep-pool.ts): builds the WIDER source the pool describes
 * and answers `prepare` requests with the core's `prepareTrainSample`, transferring the sample's
 * buffers. Loads no TF.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isStudioError, samples, type ErrorCode, type PrepareSpec, type SampleSource } from '../../core/data/index.ts';
import { widerSampleSource } from './wider-samples.ts';
import type { PrepReply, PrepRequest, PrepWorkerData } from './prep-pool.ts';

const port = parentPort!;
const data = workerData as PrepWorkerData;
// Decoded images the source caches: a sample sharing one's buffer is copied, never transferred.
const { source: base, kept } = samples.trackLoadedBuffers(widerSampleSource(data.dir, data.split, data.entries, data.cacheBytes));
const preparers = new Map<number, { source: SampleSource; spec: PrepareSpec }>();

function codeOf(e: unknown): ErrorCode {
  if (isStudioError(e)) return e.code;
  return typeof (e as NodeJS.ErrnoException).code === 'string' ? 'FILE_IO' : 'INTERNAL';
}

async function prepare(req: Extract<PrepRequest, { type: 'prepare' }>): Promise<PrepReply> {
  try {
    const p = preparers.get(req.id);
    if (!p) throw new Error(`no preparer ${req.id} (closed?)`);
    const out = await samples.prepareTrainSample(p.source, p.spec, req.index, req.epoch);
    return { req: req.req, ok: true, sample: samples.transferableSample(out, kept).sample };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { req: req.req, ok: false, code: codeOf(e), message: `preparing training sample ${req.index} of epoch ${req.epoch} (worker): ${message}` };
  }
}

port.on('message', (msg: PrepRequest) => {
  if (msg.type === 'open') preparers.set(msg.id, { source: msg.indices ? samples.subsetSource(base, msg.indices) : base, spec: msg.spec });
  else if (msg.type === 'close') preparers.delete(msg.id);
  else {
    void prepare(msg).then((reply) => {
      port.postMessage(reply, reply.ok ? [reply.sample.image.data.buffer as ArrayBuffer, reply.sample.targets.buffer as ArrayBuffer] : []);
    });
  }
});
