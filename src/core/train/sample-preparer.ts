/**
 * Host-side preparation of one training sample (decode through the source, SPEC §8 augmentation or the
 * val preprocessing, targets), as a port: the trainer asks a `SamplePreparer` for (index, epoch), and a
 * platform may answer off the training thread (worker_threads in Node, a Web Worker in the browser) as
 * long as it runs `prepareTrainSample` on the same source, which makes the answer bit-identical.
 * TF-free, so a preparation worker loads no TF.js.
 */
import { augmentTrain } from '../augment/augment-train.ts';
import { preprocessVal } from '../augment/preprocess-val.ts';
import { createRng } from '../util/random.ts';
import type { PrepareSpec, PreparedSample, SamplePreparer, SampleSource } from './sample-source.ts';

/** Seed of one sample in one epoch: different per (seed, epoch, index), fixed across runs. */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

/**
 * The training sample `index` of `epoch`: seeded by (spec.seed, epoch, index) only, so any thread gives
 * the same bytes. An image whose faces all leave the crop is redrawn (10 tries), then the next index is
 * used, as the reference's loader does.
 */
export async function prepareTrainSample(source: SampleSource, spec: PrepareSpec, index: number, epoch: number): Promise<PreparedSample> {
  const rng = createRng(sampleSeed(spec.seed, epoch, index));
  const sample = await source.load(index);
  for (let attempt = 0; attempt < 10; attempt++) {
    const out = spec.augment
      ? augmentTrain(sample.image, sample.boxes, rng, { ...spec.augmentConfig, size: spec.size })
      : preprocessVal(sample.image, sample.boxes, { size: spec.size });
    if (out.targets.length > 0) return { image: out.image, targets: out.targets };
  }
  return prepareTrainSample(source, spec, (index + 1) % source.size, epoch);
}

/** The default: preparation on the calling thread. */
export function inThreadPreparer(source: SampleSource, spec: PrepareSpec): SamplePreparer {
  return { prepare: (index, epoch) => prepareTrainSample(source, spec, index, epoch) };
}

/**
 * `source` noting the buffers of the images it hands out (a caching source keeps them): `kept(b)` says
 * whether `b` is one, for `transferableSample`.
 */
export function trackLoadedBuffers(source: SampleSource): { source: SampleSource; kept: (buffer: ArrayBufferLike) => boolean } {
  const loaded = new WeakSet<ArrayBufferLike>();
  return {
    source: {
      size: source.size,
      async load(index) {
        const sample = await source.load(index);
        loaded.add(sample.image.data.buffer);
        return sample;
      },
    },
    kept: (buffer) => loaded.has(buffer),
  };
}

/**
 * A prepared sample ready to post from a preparation worker with its buffers transferred: an array
 * that owns its whole buffer, which the worker's decoded-image cache does not hold (`kept`), goes as
 * is; anything else is copied, so a transfer never detaches a cached image.
 */
export function transferableSample(sample: PreparedSample, kept: (buffer: ArrayBufferLike) => boolean): { sample: PreparedSample; transfer: ArrayBuffer[] } {
  const own = <T extends Uint8Array | Uint8ClampedArray | Float32Array>(a: T): T => {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
    return whole && !kept(a.buffer) ? a : (a.slice() as T);
  };
  const image = { ...sample.image, data: own(sample.image.data) };
  const targets = own(sample.targets);
  return { sample: { image, targets }, transfer: [image.data.buffer as ArrayBuffer, targets.buffer as ArrayBuffer] };
}
