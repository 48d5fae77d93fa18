/**
 * A Python with PyTorch for tests that check our files against the real consumer or generate real
 * torch files (Debian's python3-torch installs it for /usr/bin/python3; BFPGM_PYTHON overrides).
 * Outside CI a suite needing it skips when none exists; with CI=true it fails instead.
 */
import { spawnSync } from 'node:child_process';

export const IN_CI = process.env.CI === 'true';

function findTorchPython(): string | null {
  // pyenv's python3 may shadow the system one that has python3-torch, so try both.
  const candidates = [process.env.BFPGM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return python;
  }
  return null;
}

export const TORCH_PYTHON = findTorchPython();

/** Runs a script with the torch Python; returns its stdout (throws with stderr when it fails). */
export function runTorchPython(script: string, args: string[], timeoutMs = 240_000): string {
  if (!TORCH_PYTHON) throw new Error('no python3 with torch (apt-get install python3-torch)');
  const r = spawnSync(TORCH_PYTHON, ['-c', script, ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`python failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}
