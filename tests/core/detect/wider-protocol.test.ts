/**
 * The full `wider_test.py` protocol (SPEC §6.2) on the astronaut golden: per-pass row counts as the
 * reference recorded them (750 / 750 / 551 / 1491) and the final bbox_vote rows of `wider_dets.npy`.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED, readShared, readSharedJson, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createEResFD, type EResFDModel } from '../../../src/core/model/eresfd/eresfd.ts';
import { detectWider, widerPasses } from '../../../src/core/detect/wider-protocol.ts';
import type { RgbImage } from '../../../src/core/types.ts';

describe.skipIf(!HAS_SHARED)('WIDER test protocol on the astronaut', () => {
  let model: EResFDModel;
  let image: RgbImage;
  beforeAll(async () => {
    await useBackend('wasm');
    model = createEResFD(readCheckpoint(readShared('models/EResFD-original.pth')).stateDict);
    const a = readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy'));
    image = { width: a.shape[1]!, height: a.shape[0]!, channels: 3, data: a.data as Uint8Array };
  });
  afterAll(() => model.dispose());

  it('runs the same passes at the same scales as the reference', async () => {
    const summary = readSharedJson<{ real: { astronaut: { wider_test: Record<string, number> } } }>('golden/summary.json');
    const ref = summary.real.astronaut.wider_test;
    const p = await widerPasses(model, image);
    expect([p.det0.length, p.det1.length, p.detS.length, p.detB.length]).toEqual([ref.n_det0, ref.n_det1, ref.n_det2, ref.n_det3]);
    expect(p.scales[4]).toBeCloseTo(ref.max_im_shrink!, 12);
  });

  it('reproduces the final bbox_vote detections', async () => {
    const dets = await detectWider(model, image, 'full');
    const golden = readNpy(sharedPath('golden/real/astronaut.wider_dets.npy'));
    const g = golden.data as Float64Array;
    expect(dets.length).toBe(golden.shape[0]);
    // Rows well above the score floor (≈0.109, where near-ties reorder) must agree in order and value.
    let compared = 0;
    for (let r = 0; r < dets.length && g[r * 5 + 4]! >= 0.12; r++) {
      for (let j = 0; j < 4; j++) expect(Math.abs(dets[r]![j]! - g[r * 5 + j]!), `row ${r} col ${j}`).toBeLessThanOrEqual(0.01);
      expect(Math.abs(dets[r]![4]! - g[r * 5 + 4]!)).toBeLessThanOrEqual(1e-4);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });
});
