/**
 * `prune --model X.pth --widerface DIR --target T [--target-kind parameters|macs] [--groups code|released|coarse|fine]
 *  [--bo-init N] [--bo-iter M] [--images K] [--size S] [--batch B] [--sfp-epochs E] [--sfp-every k]
 *  [--finetune-epochs F] [--finetune-mode reference|masked] [--eval-images V] [--protocol single|full]
 *  [--seed s] [--run-dir D] [--run-id ID] [--recipe laptop|paper] [--trial-score epoch|adaptive-bn] [--bn-images N]
 *  [--distill W] [--recalibrate N] [--sfp-lr r] [--sfp-ramp E] [--finetune-lr r] [--finetune-step E] --out Y.pth [--json]`
 * The whole B-FPGM pipeline headless. Re-running with the same --run-dir/--run-id resumes a killed run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GROUPINGS, StudioError, epochsCsv, isRecipeName, planPipelineBudget, runPipeline, trialsCsv, validatePipelineConfig, writeCheckpoint,
  type PipelineConfigInput, type TrialScore,
} from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { createFsRunStore } from '../../platform/node/fs-run-store.ts';
import { widerEntries, widerSampleSource } from '../../platform/node/wider-samples.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../platform/node/wider-folder.ts';
import { loadStateDict, parseFlags, print, requireFlag } from './common.ts';

const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

export async function pruneCommand(argv: string[]): Promise<void> {
  const t0 = performance.now();
  const flags = parseFlags(argv, Object.fromEntries([
    'model', 'widerface', 'target', 'target-kind', 'groups', 'bo-init', 'bo-iter', 'images', 'size', 'batch', 'sfp-epochs', 'sfp-every',
    'finetune-epochs', 'finetune-mode', 'eval-images', 'protocol', 'seed', 'run-dir', 'run-id', 'out',
    'recipe', 'trial-score', 'bn-images', 'distill', 'recalibrate', 'sfp-lr', 'sfp-ramp', 'finetune-lr', 'finetune-step',
  ].map((k) => [k, { type: 'string' as const }])));
  const dir = requireFlag(flags, 'widerface');
  const out = requireFlag(flags, 'out');
  let target = Number(requireFlag(flags, 'target'));
  if (target > 1) target /= 100; // accept 30 as well as 0.3
  const grouping = GROUPINGS[(flags.groups as string) ?? 'code'];
  if (!grouping) throw new StudioError('CONFIG_INVALID', `--groups must be one of ${Object.keys(GROUPINGS).join(', ')}`);
  const recipe = (flags.recipe as string | undefined) ?? 'laptop';
  if (!isRecipeName(recipe)) throw new StudioError('CONFIG_INVALID', `--recipe must be laptop or paper, got ${recipe}`);
  const input: PipelineConfigInput = {
    recipe,
    target,
    targetKind: (flags['target-kind'] as 'parameters' | 'macs') ?? 'parameters',
    grouping,
    seed: num(flags.seed) ?? 0,
    data: { images: num(flags.images), size: num(flags.size), batchSize: num(flags.batch) },
    bo: { initPoints: num(flags['bo-init']), iterations: num(flags['bo-iter']), score: flags['trial-score'] as TrialScore | undefined, bnImages: num(flags['bn-images']) },
    sfp: { epochs: num(flags['sfp-epochs']), every: num(flags['sfp-every']), lr: num(flags['sfp-lr']), rampEpochs: num(flags['sfp-ramp']) },
    finetune: {
      epochs: num(flags['finetune-epochs']), mode: flags['finetune-mode'] as 'reference' | 'masked' | undefined,
      lr: num(flags['finetune-lr']), lrStepEpoch: num(flags['finetune-step']),
    },
    distill: { weight: num(flags.distill) },
    recalibrate: { images: num(flags.recalibrate) },
    evaluate: { images: num(flags['eval-images']), protocol: flags.protocol as 'single' | 'full' | undefined },
  };
  // Drop unset fields so the defaults apply.
  for (const part of Object.values(input)) if (part && typeof part === 'object' && !('groups' in part)) for (const [k, v] of Object.entries(part)) if (v === undefined) delete (part as Record<string, unknown>)[k];
  const config = validatePipelineConfig(input);
  const pretrained = await loadStateDict(requireFlag(flags, 'model'));
  const backend = await selectNodeBackend(flags.backend as string | undefined);
  const pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: config.data.images, seed: config.seed }));
  const gt = config.evaluate.images > 0 ? await readValGroundTruth(dir) : null;
  const evaluation = gt ? { gt, refs: await presentValImages(dir, gt), loadImage: loadValImage(dir) } : undefined;
  const runDir = (flags['run-dir'] as string) ?? join(process.cwd(), '.bfpgm-runs');
  const runId = (flags['run-id'] as string) ?? 'prune';
  const store = createFsRunStore(runDir);
  const state = await runPipeline({
    runId, pretrained, config, data: { pool, evaluation }, store,
    onEvent: (e) => {
      if (e.type === 'stage') process.stderr.write(`\n== ${e.stage}\n`);
      else if (e.type === 'trial') process.stderr.write(`\ntrial ${e.trial.index}: rates ${e.trial.rates.map((r) => r.toFixed(3)).join(',')} sparsity ${(100 * e.trial.sparsity).toFixed(2)} % penalty ${e.trial.penalty.toFixed(3)} objective ${e.trial.objective.toFixed(4)}\n`);
      else if (e.type === 'step') process.stderr.write(`\r${e.stage} epoch ${e.progress.epoch + 1} step ${e.progress.step}/${e.progress.steps} loss ${(e.progress.lossL + e.progress.lossC).toFixed(3)} ${e.progress.imagesPerSec.toFixed(1)} img/s   `);
      else if (e.type === 'epoch') process.stderr.write(`\n${e.row.stage} epoch ${e.row.epoch + 1}: train ${e.row.trainLoss.toFixed(4)} val ${e.row.valLoss.toFixed(4)} sparsity ${(100 * e.row.sparsity).toFixed(2)} %\n`);
      else if (e.type === 'evaluation-progress' && (e.done % 10 === 0 || e.done === e.total)) process.stderr.write(`\rAP ${e.which}: ${e.done}/${e.total}   `);
    },
  });
  const final = await store.loadWeights(runId, 'final');
  await writeFile(out, writeCheckpoint(final!));
  await writeFile(join(runDir, runId, 'trials.csv'), trialsCsv(state));
  await writeFile(join(runDir, runId, 'epochs.csv'), epochsCsv(state));
  const planned = planPipelineBudget(state.config);
  const result = {
    recipe: state.config.recipe ?? 'paper',
    rates: state.bo.bestRates,
    groups: config.grouping.groups.map((g, i) => ({ name: g.name, rate: state.bo.bestRates![i] })),
    sparsity: 100 * state.result!.sparsity,
    macs_removed: 100 * state.result!.macsRemoved,
    target: 100 * config.target,
    target_kind: config.targetKind,
    trials: state.bo.trials.length,
    best_objective: Math.max(...state.bo.trials.map((t) => t.objective)),
    epochs: state.epochs.map((r) => ({ stage: r.stage, epoch: r.epoch + 1, train_loss: r.trainLoss, val_loss: r.valLoss, sparsity: 100 * r.sparsity })),
    ap_before: state.evaluation.before,
    ap_after: state.evaluation.after,
    // Counted by the pipeline as batches went through a training step / a forward (all stages, BO trials included).
    train_image_passes: state.budget?.trainImagePasses ?? null,
    forward_image_passes: state.budget?.forwardImagePasses ?? null,
    planned: { train_image_passes: planned.trainImagePasses, forward_image_passes: planned.forwardImagePasses },
    seconds: (performance.now() - t0) / 1000,
    out,
    run: join(runDir, runId),
    backend: backend.active,
  };
  print(!!flags.json, result, () => [
    `rates ${result.groups.map((g) => `${g.name}=${g.rate!.toFixed(3)}`).join(' ')}`,
    `sparsity ${result.sparsity.toFixed(2)} % (target ${result.target} % of ${config.targetKind}), MACs removed ${result.macs_removed.toFixed(2)} %`,
    result.ap_before ? `AP before  easy ${result.ap_before.easy.toFixed(4)} medium ${result.ap_before.medium.toFixed(4)} hard ${result.ap_before.hard.toFixed(4)}` : '',
    result.ap_after ? `AP after   easy ${result.ap_after.easy.toFixed(4)} medium ${result.ap_after.medium.toFixed(4)} hard ${result.ap_after.hard.toFixed(4)}` : '',
    `budget: ${result.train_image_passes} training and ${result.forward_image_passes} forward image passes (planned ${planned.trainImagePasses} / ${planned.forwardImagePasses}), recipe ${result.recipe}`,
    `wrote ${out}; run record in ${result.run} (state.json, trials.csv, epochs.csv)`,
  ].filter(Boolean).join('\n'));
}
