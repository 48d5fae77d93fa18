/**
 * The UI's way into the pipeline worker (B-FPGM pipeline and training runs): starts the worker on
 * first use with the page's backend order, wraps it with Comlink, forwards run events through
 * `Comlink.proxy` and restores StudioError codes lost at the boundary. Calls are not queued: pause and
 * cancel must reach the worker while a run holds it. If the worker dies, pending calls reject and the
 * next call starts a new one (the runs themselves are saved in IndexedDB and resume from there).
 * Feature state calls it; components never do.
 */
import * as Comlink from 'comlink';
import { restoreStudioError, type BackendName, type BackendSelection } from '../core/data/index.ts';
import type { RunKind, StoredRun } from '../platform/browser/idb-store.ts';
import type {
  PipelineApi,
  PipelineRunRequest,
  RunEvent,
  RunExport,
  RunOutcome,
  SpeedMeasurement,
  SpeedRequest,
  TrainingRunRequest,
} from '../../workers/pipeline.worker.ts';

export type { PipelineRunRequest, RunEvent, RunExport, RunOutcome, SpeedMeasurement, SpeedRequest, TrainingRunRequest };

export class PipelineClient {
  readonly #backendOrder: BackendName[] | undefined;
  #worker: Worker | null = null;
  #remote: Comlink.Remote<PipelineApi> | null = null;
  #crashed: Promise<never> | null = null;
  #selection: Promise<BackendSelection> | null = null;

  constructor(options: { backendOrder?: BackendName[] } = {}) {
    this.#backendOrder = options.backendOrder;
  }

  /** Starts the worker (if needed) and selects its backend. */
  init(): Promise<BackendSelection> {
    return this.#call(() => this.#selection!);
  }

  startRun(request: PipelineRunRequest, onEvent: (e: RunEvent) => void): Promise<RunOutcome> {
    return this.#call((remote) => remote.startRun(request, Comlink.proxy(onEvent)));
  }

  startTraining(request: TrainingRunRequest, onEvent: (e: RunEvent) => void): Promise<RunOutcome> {
    return this.#call((remote) => remote.startTraining(request, Comlink.proxy(onEvent)));
  }

  resumeRun(runId: string, onEvent: (e: RunEvent) => void): Promise<RunOutcome> {
    return this.#call((remote) => remote.resumeRun(runId, Comlink.proxy(onEvent)));
  }

  pause(runId: string): Promise<void> {
    return this.#call((remote) => remote.pause(runId));
  }

  cancel(runId: string): Promise<void> {
    return this.#call((remote) => remote.cancel(runId));
  }

  listRuns(kind?: RunKind): Promise<StoredRun[]> {
    return this.#call((remote) => remote.listRuns(kind));
  }

  exportRun(runId: string): Promise<RunExport> {
    return this.#call((remote) => remote.exportRun(runId));
  }

  /** A finished pipeline run as one shareable file. */
  exportRunFile(runId: string): Promise<{ name: string; bytes: ArrayBuffer }> {
    return this.#call((remote) => remote.exportRunFile(runId));
  }

  /** Opens a run file (validated in the worker); the bytes are transferred. */
  importRunFile(bytes: ArrayBuffer): Promise<{ runId: string; modelId: string; existed: boolean }> {
    return this.#call((remote) => remote.importRunFile(Comlink.transfer(bytes, [bytes])));
  }

  measureSpeed(request: SpeedRequest): Promise<SpeedMeasurement> {
    return this.#call((remote) => remote.measureSpeed(request));
  }

  dispose(): void {
    this.#remote?.[Comlink.releaseProxy]();
    this.#worker?.terminate();
    this.#worker = null;
    this.#remote = null;
    this.#selection = null;
  }

  async #call<T>(call: (remote: Comlink.Remote<PipelineApi>) => Promise<T>): Promise<T> {
    const remote = this.#start();
    try {
      if (!this.#selection) {
        const selection = remote.init(this.#backendOrder);
        this.#selection = selection;
        selection.catch(() => {
          if (this.#selection === selection) this.#selection = null; // allow a retry
        });
      }
      await Promise.race([this.#selection, this.#crashed!]);
      return await Promise.race([call(remote), this.#crashed!]);
    } catch (e) {
      throw restoreStudioError(e);
    }
  }

  #start(): Comlink.Remote<PipelineApi> {
    if (this.#remote) return this.#remote;
    const worker = new Worker(new URL('../../workers/pipeline.worker.ts', import.meta.url), { type: 'module', name: 'bfpgm-pipeline' });
    this.#worker = worker;
    this.#remote = Comlink.wrap<PipelineApi>(worker);
    this.#crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new Error(`The training worker stopped: ${ev.message || 'script error'}. Runs resume from their last saved step.`));
        this.dispose();
      });
    });
    this.#crashed.catch(() => {});
    return this.#remote;
  }
}
