/**
 * Training-sample preparation off the training worker (the browser twin of src/platform/node/prep-worker.ts):
 * the pipeline worker starts it, it opens the same IndexedDB dataset subset (same id, image count and
 * seed, so the same samples in the same order) and answers `prepare` with the core's
 * `prepareTrainSample` — bit-identical to preparing in the pipeline worker — with the sample's buffers
 * transferred. Loads no TF.js.
 */
import * as Comlink from 'comlink';
import { samples, type PreparedSample, type PrepareSpec, type SampleSource } from '../src/core/data/index.ts';
import { datasetSampleSource } from '../src/platform/browser/dataset-samples.ts';
import type { DatasetSampleKey, PrepWorkerApi } from '../src/platform/browser/worker-preparer.ts';

let opened: { key: string; source: SampleSource; kept: (buffer: ArrayBufferLike) => boolean } | null = null;
const preparers = new Map<number, { source: SampleSource; spec: PrepareSpec }>();

async function sourceFor(key: DatasetSampleKey): Promise<{ source: SampleSource; kept: (buffer: ArrayBufferLike) => boolean }> {
  const id = JSON.stringify(key);
  if (opened?.key !== id) {
    const { source } = await datasetSampleSource(key.datasetId, { images: key.images, seed: key.seed, ...(key.cacheBytes ? { cacheBytes: key.cacheBytes } : {}) });
    // Decoded images the source caches: a sample sharing one's buffer is copied, never transferred.
    opened = { key: id, ...samples.trackLoadedBuffers(source) };
  }
  return opened;
}

const api: PrepWorkerApi = {
  async open(key, id, spec, indices) {
    const { source } = await sourceFor(key);
    preparers.set(id, { source: indices ? samples.subsetSource(source, indices) : source, spec });
  },
  close(id) {
    preparers.delete(id);
  },
  async prepare(id, index, epoch): Promise<PreparedSample> {
    const p = preparers.get(id);
    if (!p || !opened) throw new Error(`no preparer ${id} (closed?)`);
    const kept = opened.kept;
    const out = samples.transferableSample(await samples.prepareTrainSample(p.source, p.spec, index, epoch), kept);
    return Comlink.transfer(out.sample, out.transfer);
  },
};

Comlink.expose(api);
