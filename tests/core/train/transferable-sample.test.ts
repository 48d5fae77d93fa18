/**
 * transferableSample (what a preparation worker posts, Node pool and browser worker alike): arrays
 * that own their buffer are transferred as they are; a buffer the decoded-image cache holds, or a view
 * into a larger buffer, is copied — a transfer must never detach a cached image.
 */
import { describe, expect, it } from 'vitest';
import { samples } from '../../../src/core/data/index.ts';

const image = (data: Uint8Array) => ({ width: 2, height: 1, channels: 3 as const, data });

describe('transferableSample', () => {
  it('transfers arrays that own their whole buffer', () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6), targets = Float32Array.of(0.1, 0.2, 0.3, 0.4, 1);
    const out = samples.transferableSample({ image: image(data), targets }, () => false);
    expect(out.sample.image.data).toBe(data);
    expect(out.sample.targets).toBe(targets);
    expect(out.transfer).toEqual([data.buffer, targets.buffer]);
  });

  it('copies a cached buffer and a view, with the same values', () => {
    const cached = Uint8Array.of(9, 8, 7, 6, 5, 4);
    const big = new Float32Array(10).map((_, i) => i);
    const view = big.subarray(2, 7);
    const out = samples.transferableSample({ image: image(cached), targets: view }, (b) => b === cached.buffer);
    expect(out.sample.image.data).not.toBe(cached);
    expect(out.sample.image.data.buffer).not.toBe(cached.buffer);
    expect(Array.from(out.sample.image.data)).toEqual(Array.from(cached));
    expect(out.sample.targets.buffer).not.toBe(big.buffer);
    expect(Array.from(out.sample.targets)).toEqual([2, 3, 4, 5, 6]);
    expect(out.transfer).not.toContain(cached.buffer);
    expect(out.transfer).not.toContain(big.buffer);
  });

  it('trackLoadedBuffers marks what its source hands out, so those buffers are copied', async () => {
    const cached = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const fresh = Uint8Array.of(6, 5, 4, 3, 2, 1);
    const { source, kept } = samples.trackLoadedBuffers({ size: 1, load: async () => ({ image: image(cached), boxes: new Float32Array(4) }) });
    expect(kept(cached.buffer)).toBe(false);
    const loaded = await source.load(0);
    expect(loaded.image.data).toBe(cached);
    expect(kept(cached.buffer)).toBe(true);
    expect(kept(fresh.buffer)).toBe(false);
    expect(samples.transferableSample({ image: image(cached), targets: new Float32Array(5) }, kept).transfer).not.toContain(cached.buffer);
  });
});
