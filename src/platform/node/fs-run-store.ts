/**
 * Pipeline runs in a folder (Node): `<dir>/<runId>/state.json` and `<dir>/<runId>/<tag>.pth` — the
 * weights in PyTorch's own format, so any stage's model can be inspected with `info`/`detect` — and,
 * for training runs, Adam's state as `<tag>.adam.json` (config, step counts) + `<tag>.adam.bin`
 * (float32 moments, per parameter exp_avg then exp_avg_sq, in the header's order).
 * Files are written to a temporary name and renamed, so a killed process never leaves half a file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEResFDCheckpoint, StudioError, writeCheckpoint, type AdamState, type RunState, type RunStore } from '../../core/index.ts';

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

interface AdamHeader {
  config: AdamState['config'];
  params: Array<{ name: string; step: number; length: number }>;
}

/** JSON the store wrote; anything else (truncated, edited by hand) is RUN_STATE, not a SyntaxError. */
function parseRecord<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new StudioError('RUN_STATE', `${path} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export function createFsRunStore<S extends { id: string } = RunState>(dir: string): RunStore<S> {
  const runDir = async (id: string) => {
    const d = join(dir, id);
    await mkdir(d, { recursive: true });
    return d;
  };
  return {
    async loadState(id) {
      const path = join(dir, id, 'state.json');
      const text = await readIfExists(path);
      return text ? parseRecord<S>(text.toString('utf8'), path) : null;
    },
    async saveState(state) {
      await atomicWrite(join(await runDir(state.id), 'state.json'), JSON.stringify(state, null, 1));
    },
    async saveWeights(id, tag, sd) {
      await atomicWrite(join(await runDir(id), `${tag}.pth`), writeCheckpoint(sd, { archiveName: `bfpgm-${tag}` }));
    },
    async loadWeights(id, tag) {
      try {
        const b = await readFile(join(dir, id, `${tag}.pth`));
        return loadEResFDCheckpoint(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).stateDict;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
      async saveOptimizer(id, tag, state) {
      const d = await runDir(id);
      const entries = Object.entries(state.params);
      const header: AdamHeader = { config: state.config, params: entries.map(([name, p]) => ({ name, step: p.step, length: p.expAvg.length })) };
      const bin = new Float32Array(entries.reduce((n, [, p]) => n + 2 * p.expAvg.length, 0));
      let at = 0;
      for (const [, p] of entries) {
        bin.set(p.expAvg, at);
        bin.set(p.expAvgSq, at + p.expAvg.length);
        at += 2 * p.expAvg.length;
      }
      // Binary first: a header on disk always has its complete moments beside it.
      await atomicWrite(join(d, `${tag}.adam.bin`), new Uint8Array(bin.buffer));
      await atomicWrite(join(d, `${tag}.adam.json`), JSON.stringify(header));
    },
    async loadOptimizer(id, tag) {
      const [json, bin] = await Promise.all([readIfExists(join(dir, id, `${tag}.adam.json`)), readIfExists(join(dir, id, `${tag}.adam.bin`))]);
      if (!json || !bin) return null;
      const header = parseRecord<AdamHeader>(json.toString('utf8'), join(dir, id, `${tag}.adam.json`));
      const values = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
      const params: AdamState['params'] = {};
      let at = 0;
      for (const p of header.params) {
        params[p.name] = { step: p.step, expAvg: values.slice(at, at + p.length), expAvgSq: values.slice(at + p.length, at + 2 * p.length) };
        at += 2 * p.length;
      }
      return { config: header.config, params };
    },
  };
}
