/**
 * The PyTorch peer of the side-by-side bench: bench/peers/eresfd_torch.py in a child process
 * (/usr/bin/python3 with torch), fed the same input; its heads must equal the studio's to 1e-4 before
 * any time counts. Throws when python/torch is missing or the heads differ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CONVS, STAGE_BLOCKS, createEResFD, onnxExport, loadEResFDCheckpoint } from '../../src/core/index.ts';

export interface TorchPeer {
  maxAbsDiff: number;
  once(): Promise<number>;
  close(): void;
}

export const PYTHON = process.env.BFPGM_PYTHON ?? '/usr/bin/python3';

/** A bench/peers python script on its line protocol: lines out, "t" → ms of one timed run, "q" quits. */
export interface PythonPeerProcess {
  next(): Promise<string>;
  once(): Promise<number>;
  quit(): void;
}

export function spawnPythonPeer(script: string, args: string[]): PythonPeerProcess {
  const child = spawn(PYTHON, [join(import.meta.dirname, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.on('error', () => undefined);
  child.stdin.on('error', () => undefined); // EPIPE when python already exited (no torch)
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`python exited: ${stderr.trim().split('\n').pop() ?? ''}`);
    return r.value;
  };
  return {
    next,
    once: async () => {
      child.stdin.write('t\n');
      return Number(await next());
    },
    quit: () => void child.stdin.end('q\n'),
  };
}

export async function startTorchPeer(checkpointPath: string, input: Float32Array, height: number, width: number): Promise<TorchPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-torch-'));
  const files = { table: join(dir, 'table.json'), input: join(dir, 'input.f32'), heads: join(dir, 'heads.f32') };
  writeFileSync(files.table, JSON.stringify({ convs: CONVS, stage_blocks: STAGE_BLOCKS }));
  writeFileSync(files.input, onnxExport.nhwcToNchw(input, height, width));
  const py = spawnPythonPeer('eresfd_torch.py', [checkpointPath, files.table, files.input, String(height), String(width), files.heads]);
  const close = (): void => {
    py.quit();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if ((await py.next()) !== 'ready') throw new Error('unexpected python output');
    const theirs = new Float32Array(readFileSync(files.heads).buffer.slice(0));
    const model = createEResFD(loadEResFDCheckpoint(new Uint8Array(readFileSync(checkpointPath))).stateDict);
    const out = tf.tidy(() => model.predict(tf.tensor4d(input, [1, height, width, 3]), { levels: true }));
    const ours = [...out.locLevels!, ...out.confLevels!].flatMap((t) => Array.from(t.dataSync()));
    tf.dispose([out.loc, out.conf, ...out.locLevels!, ...out.confLevels!]);
    model.dispose();
    if (ours.length !== theirs.length) throw new Error(`PyTorch heads have ${theirs.length} values, ours ${ours.length}`);
    let maxAbsDiff = 0;
    for (let i = 0; i < ours.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i]! - theirs[i]!));
    if (!(maxAbsDiff <= 1e-4)) throw new Error(`PyTorch heads differ from the studio's by ${maxAbsDiff}`);
    return { maxAbsDiff, once: py.once, close };
  } catch (e) {
    close();
    throw e;
  }
}
