/**
 * `train --model X.pth --widerface DIR --epochs N --images K --size S --out Y.pth [--batch B] [--lr r]
 * [--val-images V] [--seed s] [--prep-workers N] [--json]`: trains on K WIDER train images (event-stratified,
 * seeded) and reports each epoch's train loss and the eval-mode loss on a fixed set of V val images
 * (deterministic preprocessing, so epochs are comparable). Training batches are prepared by N worker
 * threads beside the step (default cores − 1; 0 = on the training thread; same samples either way).
 */
import { writeFile } from 'node:fs/promises';
import { createTrainableEResFD, createTrainer, writeCheckpoint, type EpochRecord } from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { widerEntries, widerSampleSource, type SkippedBox } from '../../platform/node/wider-samples.ts';
import { widerTrainingSource } from '../../platform/node/prep-pool.ts';
import { checkOutputFile, loadStateDict, parseFlags, PREP_WORKERS_FLAG, print, requireFlag } from './common.ts';

export async function trainCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' }, widerface: { type: 'string' }, epochs: { type: 'int', min: 1, default: 1 }, images: { type: 'int', min: 1, default: 64 },
    size: { type: 'int', min: 32, default: 640 }, out: { type: 'string' }, batch: { type: 'int', min: 1, default: 8 }, lr: { type: 'number', min: 0, default: 1e-3 },
    'weight-decay': { type: 'number', min: 0, default: 5e-4 }, 'val-images': { type: 'int', min: 1, default: 16 }, seed: { type: 'int', min: 0, default: 0 },
    'prep-workers': PREP_WORKERS_FLAG,
  });
  const dir = requireFlag(flags, 'widerface');
  const { epochs, images, size, batch: batchSize, seed } = flags;
  const valImages = flags['val-images'];
  const out = requireFlag(flags, 'out');
  await checkOutputFile('out', out);
  const sd = await loadStateDict(requireFlag(flags, 'model'));
  const backend = await selectNodeBackend(flags.backend);
  // Lists are checked before the first epoch: missing images fail here, boxes outside their image are counted.
  const skipped: SkippedBox[] = [];
  const onSkippedBox = (b: SkippedBox) => void skipped.push(b);
  const train = widerTrainingSource({ dir, split: 'train', entries: await widerEntries(dir, { split: 'train', size: images, seed, onSkippedBox }), workers: flags['prep-workers'] });
  const val = widerSampleSource(dir, 'val', await widerEntries(dir, { split: 'val', size: valImages, seed: 0, onSkippedBox }));
  if (skipped.length) process.stderr.write(`skipped ${skipped.length} face box(es) lying entirely outside their image (first: line ${skipped[0]!.line}, ${skipped[0]!.path})\n`);
  const model = createTrainableEResFD(sd);
  const trainer = createTrainer(model, train.source, val, {
    size, batchSize, seed,
    lr: flags.lr,
    weightDecay: flags['weight-decay'],
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
    await train.close();
  }
  const result = {
    epochs: records.map((r) => ({ epoch: r.epoch + 1, train_loss: r.trainLoss, val_loss: r.valLoss, images_per_s: r.imagesPerSec, train_loss_l: r.trainLossL, train_loss_c: r.trainLossC, val_loss_l: r.valLossL, val_loss_c: r.valLossC, seconds: r.seconds })),
    out,
    backend: backend.active,
    prep_workers: train.workers,
    skipped_boxes: skipped.length,
  };
  print(!!flags.json, result, () =>
    [...records.map((r) => `epoch ${r.epoch + 1}: train ${r.trainLoss.toFixed(4)} (l ${r.trainLossL.toFixed(3)}, c ${r.trainLossC.toFixed(3)}), val ${r.valLoss.toFixed(4)}, ${r.imagesPerSec.toFixed(2)} img/s, ${r.seconds.toFixed(1)} s`), `wrote ${out} (${backend.active})`].join('\n'),
  );
}
