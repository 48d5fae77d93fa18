/** Shared CLI plumbing: argument parsing, checkpoint loading, output. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadEResFDCheckpoint, StudioError, type StateDict } from '../../core/index.ts';

export type Flags = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], options: ParseArgsConfig['options']): Flags {
  const { values } = parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, backend: { type: 'string' } }, strict: true, allowPositionals: false });
  return values as Flags;
}

export function requireFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new StudioError('CONFIG_INVALID', `--${name} is required`);
  return v;
}

export async function loadStateDict(path: string): Promise<StateDict> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new StudioError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`);
  }
  return loadEResFDCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)).stateDict;
}

export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

/** Rounds for JSON output without losing what a person compares (6 significant decimals). */
export const round = (v: number, digits = 4): number => Number(v.toFixed(digits));
