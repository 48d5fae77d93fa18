/** Shared CLI plumbing: flag parsing (typed and validated), checkpoint loading, output paths, output. */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findGrouping, GROUPINGS, loadEResFDCheckpoint, StudioError, type Grouping, type StateDict } from '../../core/index.ts';

/**
 * One declared flag. Values are checked here, once, for every verb: a flag the parser rejects (unknown,
 * missing value, not a number, not one of its choices, out of its range) is a usage error (exit 2).
 * Range rules that depend on other values stay with the code that knows them (exit 1).
 */
export type FlagSpec =
  | { type: 'string'; default?: string; choices?: readonly string[] }
  | { type: 'int'; default?: number; min?: number; max?: number }
  | { type: 'number'; default?: number; min?: number; max?: number }
  | { type: 'boolean' };

type ValueOf<S extends FlagSpec> = S extends { type: 'boolean' } ? boolean : S extends { type: 'int' | 'number' } ? number : string;

/** Flags every verb takes. */
const COMMON_FLAGS = { json: { type: 'boolean' }, backend: { type: 'string' } } as const satisfies Record<string, FlagSpec>;

export type Flags<T extends Record<string, FlagSpec>> = {
  [K in keyof (T & typeof COMMON_FLAGS)]: (T & typeof COMMON_FLAGS)[K] extends { type: 'boolean' } | { default: unknown }
    ? ValueOf<(T & typeof COMMON_FLAGS)[K]>
    : ValueOf<(T & typeof COMMON_FLAGS)[K]> | undefined;
};

const usage = (message: string) => new StudioError('USAGE', message);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;

function convert(name: string, spec: FlagSpec, raw: string | boolean): string | number | boolean {
  if (spec.type === 'boolean') return raw === true;
  const text = String(raw);
  if (spec.type === 'string') {
    // Choices are compared as array members: a prototype key such as __proto__ never matches.
    if (spec.choices && !spec.choices.includes(text)) throw usage(`--${name} must be one of ${spec.choices.join(', ')}, got "${text}"`);
    return text;
  }
  const isInt = spec.type === 'int';
  const v = Number(text);
  if (!(isInt ? INTEGER : DECIMAL).test(text.trim()) || !Number.isFinite(v) || (isInt && !Number.isSafeInteger(v))) {
    throw usage(`--${name} must be ${isInt ? 'a whole number' : 'a number'}, got "${text}"`);
  }
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    const range = spec.max === undefined ? `≥ ${spec.min}` : spec.min === undefined ? `≤ ${spec.max}` : `in [${spec.min}, ${spec.max}]`;
    throw usage(`--${name} must be ${range}, got ${text}`);
  }
  return v;
}

export function parseFlags<const T extends Record<string, FlagSpec>>(argv: string[], spec: T): Flags<T> {
  const all: Record<string, FlagSpec> = { ...spec, ...COMMON_FLAGS };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(all).map(([k, s]) => [k, { type: s.type === 'boolean' ? 'boolean' : 'string' }] as const)),
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    // node:util's parse errors (unknown flag, missing value, stray positional) are usage errors.
    throw usage(e instanceof Error ? e.message : String(e));
  }
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(all)) {
    const raw = Object.hasOwn(values, name) ? values[name] : undefined;
    out[name] = raw === undefined ? (s.type === 'boolean' ? false : 'default' in s ? s.default : undefined) : convert(name, s, raw);
  }
  return out as Flags<T>;
}

/** `--groups code|released|coarse|fine`, shared by the verbs that take a grouping. */
export const GROUPS_FLAG = { type: 'string', default: 'code', choices: Object.keys(GROUPINGS) } as const satisfies FlagSpec;

/**
 * `--prep-workers N`: worker threads that prepare training batches (decode, augmentation) while the step
 * runs; 0 prepares them on the training thread. Default: cores − 1, at least 1.
 */
export const PREP_WORKERS_FLAG = { type: 'int', min: 0, max: 64 } as const satisfies FlagSpec;

export function groupingOf(id: string): Grouping {
  const g = findGrouping(id);
  if (!g) throw usage(`--groups must be one of ${Object.keys(GROUPINGS).join(', ')}, got "${id}"`);
  return g;
}

export function requireFlag<F extends object, K extends keyof F & string>(flags: F, name: K): NonNullable<F[K]> {
  const v = flags[name];
  if (v === undefined || v === null || v === '') throw usage(`--${name} is required`);
  return v as NonNullable<F[K]>;
}

/**
 * Checks an output file's place before any work is done (a pipeline that runs for hours must not fail
 * at its last write): the folder must exist and the path must not be a folder.
 */
export async function checkOutputFile(flag: string, path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const kind = async (p: string) => stat(p).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing' as const);
  const [folderKind, pathKind] = await Promise.all([kind(folder), kind(path)]);
  if (folderKind !== 'folder') throw new StudioError('FILE_IO', `--${flag} ${path}: the folder ${folder} ${folderKind === 'missing' ? 'does not exist' : 'is a file'}`);
  if (pathKind === 'folder') throw new StudioError('FILE_IO', `--${flag} ${path} is a folder; name a file`);
}

/** Creates an output folder (and its parents) before any work is done. */
export async function prepareOutputFolder(flag: string, path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    throw new StudioError('FILE_IO', `--${flag} ${path}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: a file is in the way or it is not writable)`, { cause: e });
  }
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
