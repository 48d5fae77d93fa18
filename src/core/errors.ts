/**
 * Studio errors: one class, a code per failure, and a fix hint for the person who sees it.
 *
 * Comlink rebuilds a thrown error from its name, message and stack only, so the code travels in
 * `name` (`StudioError:<CODE>`) and `restoreStudioError` turns it back into a StudioError on the
 * client side.
 */

export const ERROR_CODES = {
  CHECKPOINT_NOT_ZIP: 'The file is not a PyTorch zip checkpoint (legacy or foreign format). Re-save it with torch.save(..., _use_new_zipfile_serialization=True).',
  CHECKPOINT_CORRUPT: 'The checkpoint archive is truncated or corrupt. Download it again.',
  CHECKPOINT_NO_PICKLE: 'The archive holds no data.pkl: it is not a torch.save checkpoint.',
  CHECKPOINT_UNSAFE_PICKLE: 'The checkpoint asks to run code (a pickle global or opcode outside the tensor subset). It was not loaded.',
  CHECKPOINT_UNSUPPORTED: 'The checkpoint uses a PyTorch feature the studio does not read (a dtype other than float32/int64, or objects besides tensors). Save model.state_dict() with float32 weights.',
  CHECKPOINT_ARCHITECTURE: 'The checkpoint does not fit EResFD (width 0.0625): keys or shapes differ.',
  CHECKPOINT_LIMIT: 'The checkpoint exceeds a safety limit of the reader (pickle size, nesting or operations; inflated size or ratio). It was not loaded.',
  TORCHSCRIPT_ARCHIVE: 'This is a TorchScript model (torch.jit.save), not a state dict. In Python: torch.save(model.state_dict(), "model.pth").',
  COMPACT_FORMAT: 'The compacted model (model.json + weights .bin) is malformed or does not fit EResFD. Export it again from the studio or with the compact CLI verb.',
  MODEL_INPUT: 'The input image has an unsupported size or layout.',
  BACKEND_UNAVAILABLE: 'No TF.js backend passed its self-test on this device.',
  IMAGE_DECODE: 'The image could not be decoded (JPEG or PNG expected).',
  IMAGE_TOO_LARGE: 'The image has more pixels than the studio decodes (100 megapixels). Downscale it first.',
  DATASET_FORMAT: 'A WIDER FACE file does not follow the official format.',
  MAT_FORMAT: 'A MATLAB .mat file could not be read (MATLAB v5 format expected).',
  EVAL_INPUT: 'The evaluation input is incomplete or inconsistent.',
  CONFIG_INVALID: 'A configuration value is out of range.',
  STORAGE_QUOTA: 'The browser storage quota is exhausted. Free space or import a smaller subset.',
  NOT_FOUND: 'The requested item does not exist.',
  RUN_FILE_INVALID: 'The file is not a run exported by the studio, or it is damaged. Export the run again (Download run file) and open that file.',
  QUEUE_UNAVAILABLE: 'The job queue (Redis) cannot be reached. Check --queue redis://HOST:PORT and that redis-server (or Valkey) runs there.',
  QUEUE_JOB: 'A queued trial job or its result does not fit this run (different data folder, weights or format). Point every worker at a data folder with the same layout and images.',
  RUN_BUSY: 'Another training or pruning run is in progress (here or in another tab). Pause or cancel it first.',
  RUN_STATE: 'The saved run record is damaged or was written by another version of the studio. Start a new run (another run id or run folder).',
  RUN_WEIGHTS_MISSING: 'A weights file this run needs to continue is missing; carrying on would write the wrong model. Start a new run (another run id).',
  RUN_CONFIG_MISMATCH: 'A run resumes only with the settings it started with. Repeat the original settings, or choose a new run id to start a fresh run.',
  FILE_IO: 'Check the path: an input must exist and be readable; an output must lie in an existing, writable folder and not be a folder itself.',
  USAGE: 'Run `npm run cli -- help` for the verbs and their flags.',
  INTERNAL: 'An unexpected internal error. Re-run with --debug (or BFPGM_DEBUG=1) to see the stack trace, and report it.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = ERROR_CODES[code];
    this.name = `StudioError:${code}`;
  }
}

export function isStudioError(e: unknown, code?: ErrorCode): e is StudioError {
  return e instanceof StudioError && (code === undefined || e.code === code);
}

/** Re-creates a StudioError from an Error that crossed a worker boundary (name carries the code). */
export function restoreStudioError(e: unknown): unknown {
  if (e instanceof StudioError || !(e instanceof Error)) return e;
  const m = /^StudioError:([A-Z_]+)$/.exec(e.name);
  if (!m || !(m[1]! in ERROR_CODES)) return e;
  const restored = new StudioError(m[1] as ErrorCode, e.message);
  restored.stack = e.stack;
  return restored;
}
