/**
 * One process per run folder: `<dir>/<runId>/run.lock`, created with O_EXCL (`wx`), holding the owner's
 * pid and host. A second `prune` on the same run id is refused with RUN_BUSY naming the owner; a lock
 * left by a process that no longer exists (killed with SIGKILL, power loss) is taken over. The browser
 * does the same with a Web Lock per run (workers/pipeline.worker.ts).
 */
import { mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../core/data/index.ts';

export const RUN_LOCK_FILE = 'run.lock';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? (o as LockOwner) : null;
  } catch {
    return null; // unreadable or half-written: judged by its age below
  }
}

/** Whether the owner may still be running: same host and the pid exists (EPERM: exists, not ours). */
function ownerAlive(o: LockOwner): boolean {
  if (o.host !== hostname()) return true; // cannot tell across machines: assume it runs
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const busy = (runId: string, dir: string, path: string, o: LockOwner) =>
  new StudioError('RUN_BUSY', `run ${runId} in ${dir} is being run by process ${o.pid} on ${o.host} (since ${o.since}); lock file ${path}`);

function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock of run `runId` in `dir` or throws RUN_BUSY. Released when this process exits (any
 * exit Node runs handlers for); the returned function releases it earlier.
 */
export async function acquireRunLock(dir: string, runId: string): Promise<() => void> {
  const folder = join(dir, runId);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, RUN_LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; !tryCreate(path, me); attempt++) {
    const owner = readOwner(path);
    if (owner && ownerAlive(owner)) {
      throw busy(runId, dir, path, owner);
    }
    if (!owner && attempt === 0) {
      // Written between our open and its first write, or damaged: look once more before taking it over.
      await new Promise((r) => setTimeout(r, 200));
      if (readOwner(path)) continue;
    }
    if (attempt >= 2) throw new StudioError('RUN_BUSY', `run ${runId}: could not take over the stale lock ${path}`);
    // Stale: move it aside under a name only we use (rename is atomic), then try again. If another
    // process took it over in between, what we moved is its live lock: put it back and give way.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = readOwner(aside);
    if (moved && moved.pid !== owner?.pid && ownerAlive(moved)) {
      renameSync(aside, path);
      throw busy(runId, dir, path, moved);
    }
    unlinkSync(aside);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: never delete one a later owner took over.
    if (readOwner(path)?.pid === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', release);
  return release;
}
