/**
 * A WIDER folder for the probe kit (pack-probes.sh), small enough to travel: the seeded train subset of
 * TRAIN images (its annotation lines only), the first VAL val images present, the ground-truth .mat files.
 * Usage: tsx bench/outcome/probe-subset.ts SRC_WIDERFACE DST [TRAIN=200] [VAL=90]
 */

import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { widerEntries } from '../../src/platform/node/wider-samples.ts';
import { presentValImages, readValGroundTruth } from '../../src/platform/node/wider-folder.ts';

const [src, dst] = [process.argv[2]!, process.argv[3]!];
const [nTrain, nVal] = [Number(process.argv[4] ?? 200), Number(process.argv[5] ?? 90)];
const train = await widerEntries(src, { split: 'train', size: nTrain, seed: 0 });
const keep = new Set(train.map((e) => e.path));
// filtered split file: blocks of name, count, boxes (count lines, or 1 line when 0)
const lines = readFileSync(join(src, 'wider_face_split/wider_face_train_bbx_gt.txt'), 'utf8').split('\n');
const out: string[] = [];
for (let i = 0; i < lines.length;) {
  const name = lines[i]!.trim(); if (!name) { i++; continue; }
  const n = Number(lines[i + 1]); const len = 2 + Math.max(1, n);
  if (keep.has(name)) out.push(...lines.slice(i, i + len));
  i += len;
}
mkdirSync(join(dst, 'wider_face_split'), { recursive: true });
writeFileSync(join(dst, 'wider_face_split/wider_face_train_bbx_gt.txt'), out.join('\n') + '\n');
copyFileSync(join(src, 'wider_face_split/wider_face_val_bbx_gt.txt'), join(dst, 'wider_face_split/wider_face_val_bbx_gt.txt'));
let copied = 0;
for (let i = 0; i < out.length;) { const name = out[i]!.trim(); const n = Number(out[i + 1]); const f = join(src, 'WIDER_train/images', name); mkdirSync(dirname(join(dst, 'WIDER_train/images', name)), { recursive: true }); copyFileSync(f, join(dst, 'WIDER_train/images', name)); copied++; i += 2 + Math.max(1, n); }
console.log('train copied', copied);
const gt = await readValGroundTruth(src);
const refs = (await presentValImages(src, gt)).slice(0, nVal);
for (const r of refs) { const rel = join(r.event, r.name.endsWith('.jpg') ? r.name : r.name + '.jpg'); mkdirSync(dirname(join(dst, 'WIDER_val/images', rel)), { recursive: true }); copyFileSync(join(src, 'WIDER_val/images', rel), join(dst, 'WIDER_val/images', rel)); }
console.log('val copied', refs.length);
cpSync(join(src, 'eval_tools'), join(dst, 'eval_tools'), { recursive: true });
