/**
 * A finished pipeline run as one file, to open in another browser (a teacher prepares a run, the
 * students open it): a zip (fflate) holding `run.json` (the format tag, the run's resumable state —
 * plan, rates, trials, epochs, AP — and what it started from), `model.pth` (the pruned weights, a
 * torch.save checkpoint B-FPGM's code loads) and, for people, `trials.csv` and `epochs.csv`.
 * Reading validates everything before anything is stored: size limits before and while unzipping,
 * the format tag and version, the run's config by the pipeline's own rules, the records' shapes,
 * and the checkpoint by the checkpoint reader, whose sparsity must match the run's result.
 * Pure and TF.js-free.
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { StudioError } from '../errors.ts';
import { loadEResFDCheckpoint } from '../checkpoint/index.ts';
import { describeModel } from '../prune/describe-model.ts';
import type { ModelInfo } from '../types.ts';
import { validatePipelineConfig } from './config.ts';
import { epochsCsv, trialsCsv, type EvaluationRecord, type RunState } from './records.ts';

export const RUN_FILE_FORMAT = 'bfpgm-studio-run';
export const RUN_FILE_VERSION = 1;
/** Suggested file name ending (a plain zip: any unzip tool opens it). */
export const RUN_FILE_SUFFIX = '.bfpgm-run.zip';
/** A run file is ~0.4 MB (92,208 float32 weights + records); anything far larger is not one. */
export const MAX_RUN_FILE_BYTES = 32 * 1024 * 1024;
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/** What the run started from, by name (the ids mean nothing in another browser). */
export interface RunFileSource {
  modelName: string;
  datasetName: string;
  valDatasetName?: string;
}

export interface RunFile {
  exportedAt: string;
  run: { id: string; createdAt: number; source: RunFileSource; state: RunState };
  /** The pruned model: its display name and torch.save bytes. */
  model: { name: string; checkpoint: Uint8Array };
}

/** A run file read back: the contents plus the model card of its checkpoint. */
export interface OpenedRunFile extends RunFile {
  modelInfo: ModelInfo;
}

interface RunJson {
  format: typeof RUN_FILE_FORMAT;
  version: typeof RUN_FILE_VERSION;
  exportedAt: string;
  run: { id: string; createdAt: number; source: RunFileSource; state: RunState };
  model: { name: string; file: 'model.pth' };
}

/** Packs a finished run into one zip. */
export function packRunFile(file: RunFile): Uint8Array {
  if (file.run.state.status !== 'done') throw new StudioError('NOT_FOUND', 'Only a finished run can be shared: let it finish first.');
  const json: RunJson = { format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION, exportedAt: file.exportedAt, run: file.run, model: { name: file.model.name, file: 'model.pth' } };
  return zipSync({
    'run.json': strToU8(JSON.stringify(json, null, 1)),
    // Stored, not deflated: a checkpoint is itself a zip of float data that barely compresses.
    'model.pth': [file.model.checkpoint, { level: 0 }],
    'trials.csv': strToU8(trialsCsv(file.run.state)),
    'epochs.csv': strToU8(epochsCsv(file.run.state)),
  });
}

const invalid = (message: string, cause?: unknown) => new StudioError('RUN_FILE_INVALID', message, cause === undefined ? undefined : { cause });

/** Reads and validates a run file; throws RUN_FILE_INVALID (or a CHECKPOINT_* error for the weights) on anything else. */
export function openRunFile(bytes: Uint8Array, options: { maxBytes?: number } = {}): OpenedRunFile {
  const maxBytes = options.maxBytes ?? MAX_RUN_FILE_BYTES;
  if (bytes.byteLength > maxBytes) throw invalid(`The file is ${mb(bytes.byteLength)}; a run file is at most ${mb(maxBytes)}.`);
  if (bytes.byteLength < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw invalid('The file is not a zip archive, so it is not a run file.');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        // Refuse before inflating: a tiny zip can expand to gigabytes.
        if (f.originalSize > MAX_ENTRY_BYTES) throw invalid(`${f.name} would unpack to ${mb(f.originalSize)}.`);
        return f.name === 'run.json' || f.name === 'model.pth';
      },
    });
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw invalid('The zip archive is truncated or damaged.', e);
  }
  const jsonBytes = entries['run.json'];
  if (!jsonBytes) throw invalid('The zip holds no run.json: it was not exported by the studio.');
  let json: unknown;
  try {
    json = JSON.parse(strFromU8(jsonBytes));
  } catch (e) {
    throw invalid('run.json is not valid JSON.', e);
  }
  if (!isObject(json) || json.format !== RUN_FILE_FORMAT) throw invalid('run.json is not a studio run (format tag missing).');
  if (json.version !== RUN_FILE_VERSION) throw invalid(`The run file has version ${String(json.version)}; this studio reads version ${RUN_FILE_VERSION}.`);
  const run = json.run;
  const model = json.model;
  if (!isObject(run) || !isObject(model) || typeof model.name !== 'string' || !model.name.trim()) throw invalid('run.json lacks the run or the model.');
  if (typeof run.id !== 'string' || !run.id || typeof run.createdAt !== 'number' || !isObject(run.source) || typeof run.source.modelName !== 'string') {
    throw invalid('run.json lacks the run id, its date or its source.');
  }
  const state = checkState(run.state);
  const checkpoint = entries['model.pth'];
  if (!checkpoint) throw invalid('The zip holds no model.pth.');
  const modelInfo = describeModel(loadEResFDCheckpoint(checkpoint).stateDict);
  if (Math.abs(modelInfo.sparsity / 100 - state.result!.sparsity) > 1e-6) {
    throw invalid(`model.pth is ${modelInfo.sparsity.toFixed(2)} % sparse but the run reports ${(100 * state.result!.sparsity).toFixed(2)} %: the weights are not this run's.`);
  }
  return {
    exportedAt: typeof json.exportedAt === 'string' ? json.exportedAt : '',
    run: { id: run.id, createdAt: run.createdAt, source: run.source as unknown as RunFileSource, state },
    model: { name: model.name.trim(), checkpoint },
    modelInfo,
  };
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isFraction = (v: unknown): boolean => isNum(v) && v >= 0 && v <= 1;

function checkEvaluation(v: unknown, which: string): EvaluationRecord | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v) || !['easy', 'medium', 'hard'].every((s) => isFraction(v[s])) || !isNum(v.images) || (v.protocol !== 'single' && v.protocol !== 'full')) {
    throw invalid(`The AP ${which} pruning is malformed.`);
  }
  return v as unknown as EvaluationRecord;
}

/** The run's state, shape-checked: a finished B-FPGM run whose records the dashboard can show. */
function checkState(v: unknown): RunState {
  if (!isObject(v) || v.format !== 'bfpgm-run' || v.version !== 1) throw invalid('run.json holds no B-FPGM run state.');
  if (v.status !== 'done' || v.stage !== 'done') throw invalid('The run in the file did not finish.');
  try {
    validatePipelineConfig(v.config as Parameters<typeof validatePipelineConfig>[0]);
  } catch (e) {
    throw invalid(`The run's settings are invalid: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const groups = (v.config as RunState['config']).grouping.groups.length;
  const rates = (r: unknown): boolean => Array.isArray(r) && r.length === groups && r.every((x) => isNum(x) && x >= 0 && x < 1);
  const bo = v.bo;
  if (!isObject(bo) || !Array.isArray(bo.trials) || !rates(bo.bestRates)) throw invalid('The search record (trials, best rates) is malformed.');
  bo.trials.forEach((t: unknown, i) => {
    if (!isObject(t) || t.index !== i || !rates(t.rates) || !isFraction(t.sparsity) || !isNum(t.objective)) throw invalid(`Trial ${i} is malformed.`);
  });
  if (!Array.isArray(v.epochs) || !v.epochs.every((e) => isObject(e) && (e.stage === 'sfp' || e.stage === 'finetune') && isNum(e.epoch) && isNum(e.trainLoss))) {
    throw invalid('The epoch records are malformed.');
  }
  const r = v.result;
  if (!isObject(r) || !isFraction(r.sparsity) || !isFraction(r.macsRemoved) || !isNum(r.parameters)) throw invalid('The run has no result (sparsity, MACs).');
  const ev = v.evaluation;
  if (!isObject(ev)) throw invalid('The AP record is missing.');
  checkEvaluation(ev.before, 'before');
  checkEvaluation(ev.after, 'after');
  return v as unknown as RunState;
}
