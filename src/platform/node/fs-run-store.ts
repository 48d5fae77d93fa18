/**
 * Pipeline runs in a folder (Node): `<dir>/<runId>/state.json` and `<dir>/<runId>/<tag>.pth` — the
 * weights in PyTorch's own format, so any stage's model can be inspected with `info`/`detect`.
 * Files are written to a temporary name and renamed, so a killed process never leaves half a file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCheckpoint, writeCheckpoint, type RunState, type RunStore } from '../../core/index.ts';

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export function createFsRunStore(dir: string): RunStore {
  const runDir = async (id: string) => {
    const d = join(dir, id);
    await mkdir(d, { recursive: true });
    return d;
  };
  return {
    async loadState(id) {
      try {
        return JSON.parse(await readFile(join(dir, id, 'state.json'), 'utf8')) as RunState;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
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
        return readCheckpoint(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).stateDict;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
  };
}
