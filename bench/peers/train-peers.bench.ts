/**
 * Training step side by side, one run, interleaved: the studio's step (TF.js WASM, createTrainStep) and
 * PyTorch CPU on one thread (bench/peers/eresfd_torch_train.py, when /usr/bin/python3 has torch), on the
 * identical batch (buildBatch) and the same checkpoint. Each round runs one step of each, the order
 * alternating, so that a change in machine load hits both; the ratio is the median of per-round ratios.
 * With `endToEnd`, each round also trains one epoch of real WIDER images through the trainer (batch
 * preparation — decoding, augmentation, normalisation — in its worker pool, overlapped with the steps):
 * the images/s a user's training gets, which the acceptance compares with PyTorch's bare step.
 * The opening steps' loss pairs (same weights, same batch) are compared; a non-finite one fails the bench.
 * Exact IoU ties at the stage-2 cut (boxes aligned with the prior grid) are broken differently by the
 * reference's unstable sort and the studio, so PyTorch's pair is also given under the studio's rule.
 */
import { availableParallelism, loadavg } from 'node:os';
// Internals this benchmark uses, by path (like tests): they are not part of the core's public entries.
import { median } from '../../src/core/detect/time-forwards.ts';
import { matchBatch } from '../../src/core/loss/match.ts';
import { priorBoxes } from '../../src/core/model/eresfd/priors.ts';
import { createTrainableEResFD, createTrainer, loadEResFDCheckpoint, type SampleSource } from '../../src/core/index.ts';
import { buildBatch, openStudioStep } from '../train-bench.ts';
import { startTorchTrainPeer, type TorchTrainPeer } from './torch-train-peer.ts';

export interface TrainPeersOptions {
  original: Uint8Array;
  originalPath: string;
  sizes: number[];
  /** Timed rounds per size. */
  rounds: number | ((size: number) => number);
  /** Default 8. */
  batch?: number;
  /** Real images for the trainer's end-to-end epochs (train needs its own preparer, e.g. a worker pool). */
  endToEnd?: { train: SampleSource; val: SampleSource; label: string };
}

/** The trainer on real images: one epoch per call, images/s as the trainer measures it (steps + preparation). */
async function openEpochs(original: Uint8Array, size: number, batch: number, e2e: NonNullable<TrainPeersOptions['endToEnd']>) {
  const model = createTrainableEResFD(loadEResFDCheckpoint(original).stateDict);
  const trainer = createTrainer(model, e2e.train, e2e.val, { size, batchSize: batch, seed: 1 });
  let epoch = 0;
  const once = async (): Promise<number> => (await trainer.runEpoch(epoch++)).imagesPerSec;
  try {
    await once(); // untimed: worker start-up, decoded-image caches, XNNPACK set-up
  } catch (e) {
    trainer.dispose();
    model.dispose();
    throw e;
  }
  return { once, dispose: () => (trainer.dispose(), model.dispose()) };
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const fmtPair = (p: readonly number[]): string => `[${p.map((v) => v.toPrecision(7)).join(', ')}]`;

export async function runTrainPeersBench(options: TrainPeersOptions): Promise<string> {
  const batch = options.batch ?? 8;
  const lines = [
    `## Training step side by side (zero_grad, train-mode forward, MultiBoxLoss, backward, Adam), batch ${batch}, one run, interleaved rounds (medians); ${availableParallelism()} cores, load average ${load()}`,
    'studio: TF.js WASM in this process; PyTorch: CPU, 1 thread (our EResFD from the SPEC, loss as SPEC §7); same batch, same checkpoint',
  ];
  for (const size of options.sizes) {
    const rounds = typeof options.rounds === 'number' ? options.rounds : options.rounds(size);
    const data = buildBatch(batch, size, 1);
    const numPos = matchBatch(priorBoxes(size, size), data.targets).numPosPerImage.reduce((a, b) => a + b, 0);
    const studio = await openStudioStep('wasm', data, size, options.original);
    let torch: TorchTrainPeer | null = null;
    let epochs: Awaited<ReturnType<typeof openEpochs>> | null = null;
    try {
      if (options.endToEnd) epochs = await openEpochs(options.original, size, batch, options.endToEnd);
      try {
        torch = await startTorchTrainPeer(options.originalPath, data, batch, size);
      } catch (e) {
        lines.push(`${batch}×${size}²  PyTorch peer not run: ${(e as Error).message}`);
      }
      if (!studio.lossPair.every(Number.isFinite)) throw new Error(`studio loss pair at ${batch}×${size}² is not finite: ${fmtPair(studio.lossPair)}`);
      if (torch && !torch.loss.every(Number.isFinite)) throw new Error(`PyTorch loss pair at ${batch}×${size}² is not finite: ${fmtPair(torch.loss)}`);
      // Untimed: one more step each (the studio and python each ran one already).
      await studio.once();
      await torch?.once();
      const a: number[] = [], b: number[] = [], e: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const jobs: Array<() => Promise<void>> = [
          async () => void a.push(await studio.once()),
          ...(torch ? [async () => void b.push(await torch!.once())] : []),
          ...(epochs ? [async () => void e.push(await epochs!.once())] : []),
        ];
        if (r % 2 === 1) jobs.reverse();
        for (const job of jobs) await job();
      }
      const ips = (ms: number): string => `${((1000 * batch) / ms).toFixed(2)} images/s`;
      const sMs = median(a);
      let line = `${batch}×${size}²  ${rounds} round${rounds === 1 ? '' : 's'}: studio ${sMs.toFixed(0)} ms/step (min ${Math.min(...a).toFixed(0)}, ${ips(sMs)})`;
      if (torch) {
        const tMs = median(b);
        // images/s ratio of one round = PyTorch step time / studio step time.
        const ratio = median(a.map((s, i) => b[i]! / s));
        line += `  PyTorch ${tMs.toFixed(0)} ms/step (min ${Math.min(...b).toFixed(0)}, ${ips(tMs)})  studio ÷ PyTorch images/s ×${ratio.toFixed(2)} (per-round median; ratio of medians ×${(tMs / sMs).toFixed(2)})`;
      }
      if (epochs) {
        const eps = median(e);
        line += `\n${' '.repeat(`${batch}×${size}²`.length)}  end to end, trainer epochs of ${options.endToEnd!.train.size} WIDER images (${options.endToEnd!.label}): ${eps.toFixed(2)} images/s (min ${Math.min(...e).toFixed(2)})`;
        if (torch) line += `  ÷ PyTorch step images/s ×${median(e.map((v, i) => (v * b[i]!) / (1000 * batch))).toFixed(2)} (per-round median)`;
      }
      lines.push(line + `  [load average after: ${load()}]`);
      const indent = ' '.repeat(`${batch}×${size}²`.length);
      lines.push(`${indent}  opening step loss [lossL, lossC]: studio ${fmtPair(studio.lossPair)} (${numPos} positives)`);
      if (torch) {
        const rel = (theirs: readonly number[]): string => theirs.map((v, i) => (Math.abs(studio.lossPair[i]! - v) / Math.abs(v)).toExponential(1)).join(', ');
        lines.push(`${indent}  PyTorch ${fmtPair(torch.loss)} (${torch.numPos} positives), relative difference ${rel(torch.loss)}; with the studio's stage-2 tie rule ${fmtPair(torch.lossStudioTies)}, ${rel(torch.lossStudioTies)}`);
      }
    } finally {
      studio.dispose();
      epochs?.dispose();
      torch?.close();
    }
  }
  return lines.join('\n');
}
