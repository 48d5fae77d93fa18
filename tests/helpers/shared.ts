/**
 * Access to ../shared (licensed checkpoints, goldens, WIDER subset), read in place, never copied.
 * Outside CI a missing ../shared skips the suites that need it; with CI=true it is a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED_DIR = process.env.BFPGM_SHARED ?? resolve(here, '../../../shared');
export const HAS_SHARED = existsSync(join(SHARED_DIR, 'reference', 'EResFD-SPEC.md'));

if (!HAS_SHARED && process.env.CI === 'true') {
  throw new Error(`CI=true but the shared data folder is missing at ${SHARED_DIR}`);
}

export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

export function readShared(...parts: string[]): Uint8Array {
  const buf = readFileSync(sharedPath(...parts));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Parses JSON written by Python's json module, whose NaN/Infinity tokens become null. */
export function readSharedJson<T = unknown>(...parts: string[]): T {
  const text = readFileSync(sharedPath(...parts), 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    return JSON.parse(text.replace(/\b(-?Infinity|NaN)\b/g, 'null')) as T;
  }
}
