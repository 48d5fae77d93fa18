/** Turns anything thrown into what an error note shows: message, fix hint and StudioError code. */
import { StudioError } from '../core/data/index.ts';

export interface UiError {
  message: string;
  hint?: string;
  code?: string;
}

/** `fallbackHint` is shown for errors that are not StudioErrors (network, browser APIs). */
export function toUiError(e: unknown, fallbackHint?: string): UiError {
  if (e instanceof StudioError) return { message: e.message, hint: e.hint, code: e.code };
  if (e instanceof Error) return { message: e.message || e.name, hint: fallbackHint };
  return { message: String(e), hint: fallbackHint };
}

/** A cancellation, also one that crossed a worker boundary (Comlink rebuilds it as a plain Error named AbortError). */
export function isAbortError(e: unknown): boolean {
  return (e instanceof DOMException || e instanceof Error) && e.name === 'AbortError';
}
