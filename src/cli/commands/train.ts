/**
 * `train --model X.pth --widerface DIR --epochs N --images K --size S --out Y.pth [--batch B] [--lr r]
 * [--val-images V] [--seed s] [--json]`: trains on K WIDER train images (event-stratified, seeded) and
 * reports each epoch's train loss and the eval-mode loss on a fixed set of V val images (deterministic
 * preprocessing, so epochs are comparable).
 */
import { writeFile } from 'node:fs/promises';
import { StudioError, createTrainableEResFD, createTrainer, writeCheckpoint, type EpochRecord } from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { widerEntries, widerSampleSource, type SkippedBox } from '../../platform/node/wider-samples.ts';
import { loadStateDict, parseFlags, print, requireFlag } from './common.ts';

const int = (v: unknown, name: string, fallback?: number): number => {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new StudioError('CONFIG_INVALID', `--${name} must be a positive integer`);
  return n;
};

export async function trainCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' }, widerface: { type: 'string' }, epochs: { type: 'string' }, images: { type: 'string' },
    size: { type: 'string' }, out: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
    'weight-decay': { type: 'string' }, 'val-images': { type: 'string' }, seed: { type: 'string' },
  });
  const dir = requireFlag(flags, 'widerface');
  const epochs = int(flags.epochs, 'epochs', 1);
  const images = int(flags.images, 'images', 64);
  const size = int(flags.size, 'size', 640);
  const batchSize = int(flags.batch, 'batch', 8);
  const valImages = int(flags['val-images'], 'val-images', 16);
  const seed = flags.seed !== undefined ? Number(flags.seed) : 0;
  const out = requireFlag(flags, 'out');
  const sd = await loadStateDict(requireFlag(flags, 'model'));
  const backend = await selectNodeBackend(flags.backend as string | undefined);
  // Lists are checked before the first epoch: missing images fail here, boxes outside their image are counted.
  const skipped: SkippedBox[] = [];
  const onSkippedBox = (b: SkippedBox) => void skipped.push(b);
  const train = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: images, seed, onSkippedBox }));
  const val = widerSampleSource(dir, 'val', await widerEntries(dir, { split: 'val', size: valImages, seed: 0, onSkippedBox }));
  if (skipped.length) process.stderr.write(`skipped ${skipped.length} face box(es) lying entirely outside their image (first: line ${skipped[0]!.line}, ${skipped[0]!.path})\n`);
  const model = createTrainableEResFD(sd);
  const trainer = createTrainer(model, train, val, {
    size, batchSize, seed,
    lr: flags.lr !== undefined ? Number(flags.lr) : 1e-3,
    weightDecay: flags['weight-decay'] !== undefined ? Number(flags['weight-decay']) : 5e-4,
  }, {
    onProgress: (p) => process.stderr.write(`\repoch ${p.epoch + 1}/${epochs} step ${p.step}/${p.steps} loss_l ${p.lossL.toFixed(3)} loss_c ${p.lossC.toFixed(3)} ${p.imagesPerSec.toFixed(2)} img/s ETA ${p.etaSeconds.toFixed(0)} s   `),
  });
  const records: EpochRecord[] = [];
  try {
    for (let e = 0; e < epochs; e++) records.push(await trainer.runEpoch(e));
    process.stderr.write('\n');
    await writeFile(out, writeCheckpoint(await model.toStateDict()));
  } finally {
    trainer.dispose();
    model.dispose();
  }
  const result = {
    epochs: records.map((r) => ({ epoch: r.epoch + 1, train_loss: r.trainLoss, val_loss: r.valLoss, images_per_s: r.imagesPerSec, train_loss_l: r.trainLossL, train_loss_c: r.trainLossC, val_loss_l: r.valLossL, val_loss_c: r.valLossC, seconds: r.seconds })),
    out,
    backend: backend.active,
    skipped_boxes: skipped.length,
  };
  print(!!flags.json, result, () =>
    [...records.map((r) => `epoch ${r.epoch + 1}: train ${r.trainLoss.toFixed(4)} (l ${r.trainLossL.toFixed(3)}, c ${r.trainLossC.toFixed(3)}), val ${r.valLoss.toFixed(4)}, ${r.imagesPerSec.toFixed(2)} img/s, ${r.seconds.toFixed(1)} s`), `wrote ${out} (${backend.active})`].join('\n'),
  );
}
