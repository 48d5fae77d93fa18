/**
 * The PyTorch training-step peer: bench/peers/eresfd_torch_train.py in a child process (/usr/bin/python3
 * with torch, one thread), fed the studio's batch (NHWC → NCHW) and targets. It runs one untimed step
 * before answering and reports that step's loss pair, for comparison with the studio's on the same
 * weights. Throws when python/torch is missing; a non-finite loss is the caller's to judge.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONVS, STAGE_BLOCKS, onnxExport } from '../../src/core/index.ts';
import type { TrainBatch } from '../../src/core/train/train-step.ts';
import { spawnPythonPeer } from './torch-peer.ts';

export interface TorchTrainPeer {
  /** [lossL, lossC] of the opening step (the checkpoint's weights). */
  loss: [number, number];
  /** The same step's outputs scored with the studio's stage-2 tie rule (exact ties go to the lower prior). */
  lossStudioTies: [number, number];
  /** Positives of the batch (MultiBoxLoss's normaliser). */
  numPos: number;
  /** One full step (zero_grad, forward, loss, backward, Adam), ms as timed in python. */
  once(): Promise<number>;
  close(): void;
}

function batchToNchw(batch: TrainBatch, size: number): Float32Array {
  const pixels = size * size * 3;
  const out = new Float32Array(batch.count * pixels);
  for (let i = 0; i < batch.count; i++) out.set(onnxExport.nhwcToNchw(batch.x.subarray(i * pixels, (i + 1) * pixels), size, size), i * pixels);
  return out;
}

export async function startTorchTrainPeer(checkpointPath: string, batch: TrainBatch, batchSize: number, size: number): Promise<TorchTrainPeer> {
  if (batch.count !== batchSize || batch.x.length !== batchSize * size * size * 3) throw new Error(`startTorchTrainPeer: batch is not ${batchSize}×${size}²`);
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-torch-train-'));
  const files = { table: join(dir, 'table.json'), batch: join(dir, 'batch.f32'), targets: join(dir, 'targets.json') };
  writeFileSync(files.table, JSON.stringify({ convs: CONVS, stage_blocks: STAGE_BLOCKS }));
  writeFileSync(files.batch, batchToNchw(batch, size));
  // Float32 values print exactly as doubles, and python's float32 tensor rounds them back unchanged.
  writeFileSync(files.targets, JSON.stringify(batch.targets.map((t) => Array.from({ length: t.length / 5 }, (_, r) => Array.from(t.subarray(r * 5, r * 5 + 5))))));
  const py = spawnPythonPeer('eresfd_torch_train.py', [checkpointPath, files.table, files.batch, files.targets, String(batchSize), String(size)]);
  let removed = false;
  const removeFiles = (): void => {
    if (!removed) rmSync(dir, { recursive: true, force: true });
    removed = true;
  };
  const close = (): void => {
    py.quit();
    removeFiles();
  };
  try {
    const head = (await py.next()).split(' ');
    if (head[0] !== 'loss' || head.length !== 6) throw new Error(`unexpected python output: ${head.join(' ')}`);
    if ((await py.next()) !== 'ready') throw new Error('unexpected python output');
    removeFiles(); // read at start-up; the 8×640² batch alone is 39 MB
    return {
      loss: [Number(head[1]), Number(head[2])],
      numPos: Number(head[3]),
      lossStudioTies: [Number(head[4]), Number(head[5])],
      once: py.once,
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}
