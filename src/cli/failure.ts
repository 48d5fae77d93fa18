/**
 * How the CLI ends when something fails: every thrown value (a StudioError, a Node fs error, a bug, a
 * thrown string) becomes one `error [CODE]: message` line plus a hint, exit 1 (2 for usage errors).
 * Stacks only with --debug or BFPGM_DEBUG=1: a person needs the message, a bug report the stack.
 */
import { ERROR_CODES, isStudioError, type ErrorCode } from '../core/index.ts';

export interface CliFailure {
  code: ErrorCode;
  message: string;
  hint: string;
  exitCode: 1 | 2;
  /** For --debug only. */
  stack?: string;
}

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

const isSystemError = (e: unknown): e is SystemError =>
  e instanceof Error && typeof (e as SystemError).code === 'string' && /^E[A-Z0-9]+$/.test((e as SystemError).code) && typeof (e as SystemError).syscall === 'string';

/** `open /x/y.pth: no such file or directory (ENOENT)` from Node's `ENOENT: no such file or directory, open '/x/y.pth'`. */
function describeSystemError(e: SystemError): string {
  const reason = e.message.replace(/^E[A-Z0-9]+: /, '').replace(/, \w+ '.*'$/s, '');
  return `${e.syscall}${e.path ? ` ${e.path}` : ''}${e.dest ? ` → ${e.dest}` : ''}: ${reason} (${e.code})`;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function toCliFailure(e: unknown): CliFailure {
  const stack = e instanceof Error ? e.stack : undefined;
  if (isStudioError(e)) return { code: e.code, message: e.message, hint: e.hint, exitCode: e.code === 'USAGE' ? 2 : 1, stack };
  const make = (code: ErrorCode, message: string): CliFailure => ({ code, message, hint: ERROR_CODES[code], exitCode: code === 'USAGE' ? 2 : 1, stack });
  if (isSystemError(e)) return make('FILE_IO', describeSystemError(e));
  if (e instanceof Error) return make('INTERNAL', `${e.name === 'Error' ? '' : `${e.name}: `}${e.message || '(no message)'}`);
  return make('INTERNAL', `a non-error value was thrown: ${describeValue(e)}`);
}

export function formatCliFailure(f: CliFailure, debug: boolean): string {
  return `error [${f.code}]: ${f.message}\n  ${f.hint}\n${debug && f.stack ? `${f.stack}\n` : ''}`;
}
