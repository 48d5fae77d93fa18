/**
 * One outcome probe (for running many side by side, e.g. one per core on a lent machine): a pipeline
 * run from EResFD-original.pth with the given recipe and ablations, or a reference checkpoint's AP,
 * then AP (single protocol) on the first N val images present. Appends one JSON line to --rows.
 * Usage: probe --shared DIR --name N [--target 0.3] [--recipe laptop|paper|paper-at-budget]
 *   [--scale f] [--images K] [--eval-images V] [--no-distill] [--no-recal] [--mode reference|masked]
 *   [--lr x] [--reference EResFD-30-pruned.pth] --rows FILE
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createEResFD, describeModel, evaluateWider, predictWider, loadEResFDCheckpoint, runPipeline, selectBackend, validatePipelineConfig, widerImageKey,
  type PipelineConfigInput, type StateDict,
} from '../../src/core/index.ts';
import { createFsRunStore } from '../../src/platform/node/fs-run-store.ts';
import { widerEntries, widerSampleSource } from '../../src/platform/node/wider-samples.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../src/platform/node/wider-folder.ts';
import { paperAtBudget, scaledLaptop } from './outcome.bench.ts';
import '../../src/platform/node/backends.ts';

const { values: a } = parseArgs({ options: {
  shared: { type: 'string' }, name: { type: 'string' }, target: { type: 'string', default: '0.3' }, recipe: { type: 'string', default: 'laptop' },
  scale: { type: 'string', default: '1' }, images: { type: 'string' }, 'eval-images': { type: 'string', default: '100' },
  'no-distill': { type: 'boolean' }, 'no-recal': { type: 'boolean' }, mode: { type: 'string' }, lr: { type: 'string' },
  reference: { type: 'string' }, rows: { type: 'string' },
} });
const shared = a.shared!;
const dir = join(shared, 'widerface');
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`[${a.name} ${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);

async function ap(sd: StateDict) {
  const gt = await readValGroundTruth(dir);
  const refs = (await presentValImages(dir, gt)).slice(0, Number(a['eval-images']));
  const model = createEResFD(sd);
  try {
    const preds = await predictWider(model, refs, loadValImage(dir), { protocol: 'single' });
    const { easy, medium, hard } = evaluateWider(gt, preds, { restrictTo: refs.map((r) => widerImageKey(r.event, r.name)) });
    return { easy, medium, hard, evalImages: refs.length };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  await selectBackend(['wasm', 'cpu']);
  const load = (n: string) => loadEResFDCheckpoint(new Uint8Array(readFileSync(join(shared, 'models', n)))).stateDict;
  let row: Record<string, unknown>;
  if (a.reference) {
    const sd = load(a.reference);
    row = { sparsity: describeModel(sd).sparsity / 100, ...(await ap(sd)) };
  } else {
    const target = Number(a.target);
    const f = Number(a.scale);
    let input: PipelineConfigInput =
      a.recipe === 'paper-at-budget' ? paperAtBudget(validatePipelineConfig({ ...scaledLaptop(f), target, ...(a.images ? { data: { images: Number(a.images) } } : {}) }))
      : a.recipe === 'paper' ? { recipe: 'paper' } : scaledLaptop(f);
    if (a.images) input = { ...input, data: { ...(input.data ?? {}), images: Number(a.images) } };
    if (a['no-distill']) input = { ...input, distill: { weight: 0 } };
    if (a['no-recal']) input = { ...input, recalibrate: { images: 0 } };
    if (a.mode) input = { ...input, finetune: { ...(input.finetune ?? {}), mode: a.mode as 'reference' | 'masked' } };
    if (a.lr) input = { ...input, sfp: { ...(input.sfp ?? {}), lr: Number(a.lr) }, finetune: { ...(input.finetune ?? {}), lr: Number(a.lr) } };
    const config = validatePipelineConfig({ ...input, target, evaluate: { images: 0 } });
    const pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: config.data.images, seed: config.seed }));
    const store = createFsRunStore(await mkdtemp(join(tmpdir(), 'probe-')));
    const state = await runPipeline({
      runId: 'probe', pretrained: load('EResFD-original.pth'), config, data: { pool }, store,
      onEvent: (e) => {
        if (e.type === 'stage') log(`stage ${e.stage}`);
        else if (e.type === 'epoch') log(`${e.row.stage} epoch ${e.row.epoch + 1}: train ${e.row.trainLoss.toFixed(3)} val ${e.row.valLoss.toFixed(3)} sparsity ${(100 * e.row.sparsity).toFixed(1)}%`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    row = { sparsity: state.result!.sparsity, rates: state.bo.bestRates, budget: state.budget, trainSeconds: seconds, sfpEpochs: config.sfp.epochs, finetuneEpochs: config.finetune.epochs, trials: state.bo.trials.length, ...(await ap((await store.loadWeights('probe', 'final'))!)) };
  }
  row = { name: a.name, target: a.reference ? null : Number(a.target), recipe: a.reference ?? a.recipe, scale: Number(a.scale), seconds: (performance.now() - t0) / 1000, ...row };
  log(JSON.stringify(row));
  if (a.rows) appendFileSync(a.rows, `${JSON.stringify(row)}\n`);
}

main().catch((e) => {
  log(`FAILED ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
