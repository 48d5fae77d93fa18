/**
 * `prune --model X.pth --widerface DIR --target T [--target-kind parameters|macs] [--groups code|released|coarse|fine]
 *  [--bo-init N] [--bo-iter M] [--images K] [--size S] [--batch B] [--sfp-epochs E] [--sfp-every k]
 *  [--finetune-epochs F] [--finetune-mode reference|masked] [--eval-images V] [--protocol single|full]
 *  [--seed s] [--run-dir D] [--run-id ID] [--recipe laptop|paper] [--trial-score epoch|adaptive-bn] [--bn-images N]
 *  [--distill W] [--recalibrate N] [--sfp-lr r] [--sfp-ramp E] [--finetune-lr r] [--finetune-step E]
 *  [--bo-batch q] [--bo-strategy constant-liar|kriging-believer] [--queue redis://HOST:PORT] [--targets t1,t2,…] [--prep-workers N] --out Y.pth [--json]`
 * The whole B-FPGM pipeline headless. Re-running with the same --run-dir/--run-id resumes a killed run.
 * --queue makes this process a coordinator whose BO trials run on `worker` processes (prune-queue.ts);
 * --targets runs one pipeline per target (a sweep; --out is then a folder) and writes the paper's table.
 * --prep-workers N: worker threads preparing training batches beside the step (default cores − 1; 0 = in-thread).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  StudioError, epochsCsv, isRecipeName, loadRunWeights, sweep, planPipelineBudget, runPipeline, trialsCsv,
  validatePipelineConfig, writeCheckpoint,
  type BatchStrategy, type PipelineConfigInput, type RunState, type TrialScore,
} from '../../core/index.ts';
import { connectCoordinator } from './prune-queue.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { createFsRunStore } from '../../platform/node/fs-run-store.ts';
import { acquireRunLock } from '../../platform/node/run-lock.ts';
import { widerEntries } from '../../platform/node/wider-samples.ts';
import { widerTrainingSource } from '../../platform/node/prep-pool.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../platform/node/wider-folder.ts';
import { checkOutputFile, GROUPS_FLAG, prepareOutputFolder, groupingOf, loadStateDict, parseFlags, PREP_WORKERS_FLAG, print, requireFlag } from './common.ts';

/** The flag of each pipeline setting, so a refused resume names what to repeat. */
const FLAG_OF_SETTING: Record<string, string> = {
  target: '--target', targetKind: '--target-kind', grouping: '--groups', seed: '--seed', pretrained: '--model',
  'data.images': '--images', 'data.size': '--size', 'data.batchSize': '--batch', 'bo.initPoints': '--bo-init', 'bo.iterations': '--bo-iter',
  'sfp.epochs': '--sfp-epochs', 'sfp.every': '--sfp-every', 'finetune.epochs': '--finetune-epochs', 'finetune.mode': '--finetune-mode',
  'evaluate.images': '--eval-images', 'evaluate.protocol': '--protocol', recipe: '--recipe', 'bo.score': '--trial-score', 'bo.bnImages': '--bn-images',
  'bo.batch': '--bo-batch', 'bo.batchStrategy': '--bo-strategy', 'distill.weight': '--distill', 'recalibrate.images': '--recalibrate', 'sfp.lr': '--sfp-lr',
  'sfp.rampEpochs': '--sfp-ramp', 'finetune.lr': '--finetune-lr', 'finetune.lrStepEpoch': '--finetune-step',
};
/** A run id names a folder inside --run-dir: no separators, no `..`. */
const RUN_ID = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

export async function pruneCommand(argv: string[]): Promise<void> {
  const t0 = performance.now();
  const count = (min: number) => ({ type: 'int', min }) as const;
  const flags = parseFlags(argv, {
    model: { type: 'string' }, widerface: { type: 'string' }, target: { type: 'number', min: 0 },
    'target-kind': { type: 'string', default: 'parameters', choices: ['parameters', 'macs'] }, groups: GROUPS_FLAG,
    'bo-init': count(0), 'bo-iter': count(0), images: count(2), size: count(32), batch: count(1), 'sfp-epochs': count(0), 'sfp-every': count(1),
    'finetune-epochs': count(0), 'finetune-mode': { type: 'string', choices: ['reference', 'masked'] }, 'eval-images': count(0),
    protocol: { type: 'string', choices: ['single', 'full'] }, seed: { type: 'int', min: 0, default: 0 }, 'run-dir': { type: 'string' },
    'run-id': { type: 'string', default: 'prune' }, out: { type: 'string' },
    recipe: { type: 'string', default: 'laptop', choices: ['laptop', 'paper'] }, 'trial-score': { type: 'string', choices: ['epoch', 'adaptive-bn'] },
    'bn-images': count(0), distill: { type: 'number', min: 0 }, recalibrate: count(0), 'sfp-lr': { type: 'number', min: 0 }, 'sfp-ramp': count(0),
    'finetune-lr': { type: 'number', min: 0 }, 'finetune-step': count(0),
    'bo-batch': count(1), 'bo-strategy': { type: 'string', choices: ['constant-liar', 'kriging-believer'] }, queue: { type: 'string' }, targets: { type: 'string' },
    'prep-workers': PREP_WORKERS_FLAG,
  });
  const dir = requireFlag(flags, 'widerface');
  const out = requireFlag(flags, 'out');
  if (flags.targets !== undefined && flags.target !== undefined) throw new StudioError('USAGE', 'give either --target or --targets, not both');
  const targets = flags.targets !== undefined ? sweep.parseTargets(flags.targets) : null;
  let target = targets ? targets[0]! : requireFlag(flags, 'target');
  if (target > 1) target /= 100; // accept 30 as well as 0.3
  const runId = flags['run-id'];
  if (!RUN_ID.test(runId)) throw new StudioError('USAGE', `--run-id "${runId}": use letters, digits, '.', '_' or '-' (it names a folder inside --run-dir)`);
  if (targets) await prepareOutputFolder('out', out);
  else await checkOutputFile('out', out);
  const recipe = flags.recipe;
  if (!isRecipeName(recipe)) throw new StudioError('USAGE', `--recipe must be laptop or paper, got ${recipe}`);
  const input: PipelineConfigInput = {
    recipe,
    target,
    targetKind: flags['target-kind'] as 'parameters' | 'macs',
    grouping: groupingOf(flags.groups),
    seed: flags.seed,
    data: { images: flags.images, size: flags.size, batchSize: flags.batch },
    bo: {
      initPoints: flags['bo-init'], iterations: flags['bo-iter'], score: flags['trial-score'] as TrialScore | undefined, bnImages: flags['bn-images'],
      batch: flags['bo-batch'], batchStrategy: flags['bo-strategy'] as BatchStrategy | undefined,
    },
    sfp: { epochs: flags['sfp-epochs'], every: flags['sfp-every'], lr: flags['sfp-lr'], rampEpochs: flags['sfp-ramp'] },
    finetune: {
      epochs: flags['finetune-epochs'], mode: flags['finetune-mode'] as 'reference' | 'masked' | undefined,
      lr: flags['finetune-lr'], lrStepEpoch: flags['finetune-step'],
    },
    distill: { weight: flags.distill },
    recalibrate: { images: flags.recalibrate },
    evaluate: { images: flags['eval-images'], protocol: flags.protocol as 'single' | 'full' | undefined },
  };
  // Drop unset fields so the defaults apply.
  for (const part of Object.values(input)) if (part && typeof part === 'object' && !('groups' in part)) for (const [k, v] of Object.entries(part)) if (v === undefined) delete (part as Record<string, unknown>)[k];
  const config = validatePipelineConfig(input);
  const runDir = flags['run-dir'] ?? join(process.cwd(), '.bfpgm-runs');
  const store = createFsRunStore(runDir);
  // A second process on the same run is refused (the browser holds a Web Lock per run instead);
  // the lock goes when this process exits, however it exits.
  await acquireRunLock(runDir, runId);
  const pretrained = await loadStateDict(requireFlag(flags, 'model'));
  const backend = await selectNodeBackend(flags.backend);
  let skippedBoxes = 0;
  const entries = await widerEntries(dir, { split: 'train', size: config.data.images, seed: config.seed, onSkippedBox: () => void skippedBoxes++ });
  // Training batches are prepared in worker threads (unless --prep-workers 0); BO trials on queue workers do not use them.
  const training = widerTrainingSource({ dir, split: 'train', entries, workers: flags['prep-workers'] });
  const pool = training.source;
  const gt = config.evaluate.images > 0 ? await readValGroundTruth(dir) : null;
  const evaluation = gt ? { gt, refs: await presentValImages(dir, gt), loadImage: loadValImage(dir) } : undefined;
  const coordinator = flags.queue ? await connectCoordinator(flags.queue, pretrained, entries) : null;
  try {
    if (targets) {
      await mkdir(out, { recursive: true });
      const rows = [];
      for (const t of targets) {
        const id = sweep.sweepRunId(runId, t);
        process.stderr.write(`\n=== target ${(100 * t).toFixed(0)} % (run ${id})\n`);
        rows.push(sweep.sweepRow(await pruneOnce({ ...input, target: t }, id, join(out, `EResFD-${Number((100 * t).toFixed(2))}-pruned.pth`))));
      }
      const csv = sweep.sweepCsv(rows);
      const md = sweep.sweepMarkdown(rows);
      await mkdir(join(runDir, runId), { recursive: true });
      await writeFile(join(runDir, runId, 'sweep.csv'), csv);
      await writeFile(join(runDir, runId, 'sweep.md'), md);
      print(!!flags.json, { rows, csv: join(runDir, runId, 'sweep.csv'), markdown: join(runDir, runId, 'sweep.md'), out }, () => `${md}\nwrote ${join(runDir, runId, 'sweep.csv')} and sweep.md; checkpoints in ${out}`);
    } else {
      const state = await pruneOnce(input, runId, out);
      report(state);
    }
  } finally {
    await coordinator?.close();
    await training.close();
  }

  async function pruneOnce(runInput: PipelineConfigInput, id: string, outPath: string) {
    const runStore = coordinator ? coordinator.mirror(store) : store;
    const state = await runPipeline({
      runId: id, pretrained, config: runInput, data: { pool, evaluation }, store: runStore, settingName: (path) => FLAG_OF_SETTING[path] ?? path,
      ...(coordinator ? { trialExecutor: coordinator.executor(join(runDir, id)) } : {}),
      onEvent: (e) => {
        if (e.type === 'stage') process.stderr.write(`\n== ${e.stage}\n`);
        else if (e.type === 'trial') process.stderr.write(`\ntrial ${e.trial.index}: rates ${(e.trial.appliedRates ?? e.trial.rates).map((r) => r.toFixed(3)).join(',')}${e.trial.appliedRates ? ` (projected from ${e.trial.rates.map((r) => r.toFixed(3)).join(',')})` : ''} sparsity ${(100 * e.trial.sparsity).toFixed(2)} % penalty ${e.trial.penalty.toFixed(3)} objective ${e.trial.objective.toFixed(4)}\n`);
        else if (e.type === 'step') process.stderr.write(`\r${e.stage} epoch ${e.progress.epoch + 1} step ${e.progress.step}/${e.progress.steps} loss ${(e.progress.lossL + e.progress.lossC).toFixed(3)} ${e.progress.imagesPerSec.toFixed(1)} img/s   `);
        else if (e.type === 'epoch') process.stderr.write(`\n${e.row.stage} epoch ${e.row.epoch + 1}: train ${e.row.trainLoss.toFixed(4)} val ${e.row.valLoss.toFixed(4)} sparsity ${(100 * e.row.sparsity).toFixed(2)} %\n`);
        else if (e.type === 'evaluation-progress' && (e.done % 10 === 0 || e.done === e.total)) process.stderr.write(`\rAP ${e.which}: ${e.done}/${e.total}   `);
      },
    });
    const final = await loadRunWeights(runStore, id, 'final');
    await writeFile(outPath, writeCheckpoint(final));
    await writeFile(join(runDir, id, 'trials.csv'), trialsCsv(state));
    await writeFile(join(runDir, id, 'epochs.csv'), epochsCsv(state));
    return state;
  }

  function report(state: RunState): void {
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
      skipped_boxes: skippedBoxes,
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
}
