/**
 * Issue 11 items 1, 6 and 7 through the CLI verbs: a checkpoint of another architecture is refused by
 * the load entry with CHECKPOINT_ARCHITECTURE (never 0 detections or a crash), `train` fails before
 * its first epoch on a wrong model or a list naming a missing image, and a phone photo with EXIF
 * orientation 6 is detected upright. Inputs are generated here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_KEYS_IN_ORDER } from '../../src/core/checkpoint/state-dict-map.ts';
import { writeCheckpoint, writeStateDict } from '../../src/core/checkpoint/write-checkpoint.ts';
import type { StateDict } from '../../src/core/types.ts';
import { syntheticStateDict } from '../core/prune/synthetic-state-dict.ts';
import { runCli } from '../helpers/cli.ts';
import { jpegWithOrientation } from '../helpers/exif.ts';
import { readNpy } from '../helpers/npy.ts';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'bfpgm-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** EResFD's 920 keys with one tensor replaced, written like any torch file (aliases share storage). */
function eresfdWith(change: (sd: StateDict) => void): Uint8Array {
  const sd = syntheticStateDict();
  change(sd);
  return writeStateDict(ALL_KEYS_IN_ORDER.map((k) => (k.aliasOf ? { key: k.key, aliasOf: k.aliasOf } : { key: k.key, tensor: sd.get(k.key)! })));
}

const linear = () =>
  writeStateDict([
    { key: 'weight', tensor: { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) } },
    { key: 'bias', tensor: { dtype: 'float32', shape: [2], data: new Float32Array(2) } },
  ]);
const wrongConv = () => eresfdWith((sd) => sd.set('conf.0.weight', { dtype: 'float32', shape: [2, 16, 1, 1], data: new Float32Array(32) }));

describe('CLI verbs refuse a checkpoint of another architecture', () => {
  const image = file('tiny.jpg', jpegWithOrientation(32, 32, new Uint8Array(32 * 32 * 4).fill(128)));
  const CASES: Array<[string, () => Uint8Array, string[], RegExp]> = [
    ['info on an nn.Linear state dict', linear, ['info'], /error \[CHECKPOINT_ARCHITECTURE\]: .*this is a different network/],
    ['detect with a conv of the wrong shape', wrongConv, ['detect', '--image', image], /error \[CHECKPOINT_ARCHITECTURE\]: .*conf\.0\.weight: expected \[4,16,1,1\] float32, found \[2,16,1,1\] float32/],
  ];
  for (const [what, build, args, message] of CASES) {
    it(`${what} → exit 1, ${message.source.slice(0, 40)}…`, async () => {
      const model = file(`${args[0]}.pth`, build());
      const r = await runCli(args[0]!, '--model', model, ...args.slice(1));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
    }, 300_000);
  }
});

describe('train fails before its first epoch', () => {
  const wider = join(dir, 'wider');
  mkdirSync(join(wider, 'wider_face_split'), { recursive: true });
  mkdirSync(join(wider, 'WIDER_train', 'images', '0--Parade'), { recursive: true });
  writeFileSync(join(wider, 'WIDER_train', 'images', '0--Parade', 'a.jpg'), jpegWithOrientation(64, 64, new Uint8Array(64 * 64 * 4).fill(100)));
  const face = '8 8 30 30 0 0 0 0 0 0';
  writeFileSync(join(wider, 'wider_face_split', 'wider_face_train_bbx_gt.txt'), ['0--Parade/a.jpg', '1', face, '0--Parade/gone.jpg', '1', face, ''].join('\n'));
  writeFileSync(join(wider, 'wider_face_split', 'wider_face_val_bbx_gt.txt'), ['0--Parade/a.jpg', '1', face, ''].join('\n'));
  const out = join(dir, 'trained.pth');

  const CASES: Array<[string, () => Uint8Array, RegExp]> = [
    ['a model with a conv of the wrong shape', wrongConv, /error \[CHECKPOINT_ARCHITECTURE\]: .*conf\.0\.weight/],
    ['a train list naming a missing image', () => writeCheckpoint(syntheticStateDict()), /error \[DATASET_FORMAT\]: wider_face_train_bbx_gt\.txt, line 4: 0--Parade\/gone\.jpg: the image file is missing/],
  ];
  for (const [what, model, message] of CASES) {
    it(`${what} → exit 1 before any epoch`, async () => {
      const r = await runCli('train', '--model', file('train-model.pth', model()), '--widerface', wider, '--epochs', '1', '--images', '2', '--size', '64', '--val-images', '1', '--out', out, '--backend', 'cpu');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/epoch 1\/1 step/);
    }, 300_000);
  }
});

describe.skipIf(!HAS_SHARED)('detect applies EXIF orientation like the studio', () => {
  it('a phone photo stored sideways with orientation 6 finds the astronaut upright', async () => {
    const a = readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy'));
    const [H, W] = [a.shape[0]!, a.shape[1]!];
    const up = a.data as Uint8Array;
    // Stored sideways as a phone held in portrait writes it: orientation 6 turns it a quarter clockwise
    // to show it, so the stored pixels are the upright ones turned a quarter anticlockwise.
    const sw = H, sh = W;
    const stored = new Uint8Array(sw * sh * 4);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        // Shown upright, stored (x, y) lands at upright (sh-1-y, x) (EXIF: row 0 is the right-hand side).
        const u = (x * W + (sh - 1 - y)) * 3;
        stored.set([up[u]!, up[u + 1]!, up[u + 2]!, 255], (y * sw + x) * 4);
      }
    }
    const photo = file('phone.jpg', jpegWithOrientation(sw, sh, stored, 6));
    const r = await runCli('detect', '--model', sharedPath('models/EResFD-original.pth'), '--image', photo, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect([out.width, out.height]).toEqual([W, H]);
    const [x1, y1, x2, y2, score] = out.detections[0];
    expect(score).toBeGreaterThan(0.9);
    // The upright astronaut's face (tests/cli/cli.test.ts, from the PNG): 179, 60, 275, 176; JPEG moves it a little.
    for (const [got, want] of [[x1, 179.07], [y1, 60.04], [x2, 274.8], [y2, 176.29]]) expect(Math.abs(got - want)).toBeLessThan(6);
  }, 300_000);
});
