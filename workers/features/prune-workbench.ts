/**
 * Worker side of the rate editor (issue 6 item 1): the architecture and groupings as data, FPGM plans
 * and their numbers for a rate vector (sparsity exactly as SPEC §3.4 / `npm run cli -- info`, MACs
 * removed at 480×640, filters zeroed per conv), ms/frame of the masked and of the compacted model, and
 * the FPGM-zeroed checkpoint for "Use these rates". Runs in the compute worker; plain data in and out.
 *
 * Per loaded model (keyed by the model object, so a newly loaded model starts fresh) the FPGM scores
 * and the sparsity predictor are built once: a preview while dragging only re-selects filters
 * (`createFpgmPlanner`) and sums precomputed per-filter zero counts (`createSparsityPredictor`).
 */
import {
  applyPlanToStateDict,
  compactEResFD,
  CONVS,
  createEResFD,
  describeModel,
  GROUPINGS,
  groupStats,
  macsRemoved,
  planGroupSummary,
  PRUNABLE_MODULES,
  search,
  StudioError,
  timeForwards,
  totalMacs,
  validateGrouping,
  writeCheckpoint,
  type ConvSpec,
  type CompactedModel,
  type EResFDModel,
  type Grouping,
  type GroupStats,
  type MacsRemoved,
  type ModelInfo,
  type PruningPlan,
} from '../../src/core/index.ts';
import { modelCache } from './score-cache.ts';

/** Input size of the MAC and timing figures (H × W), the SPEC's reference size. */
export const MEASURE_HEIGHT = 480;
export const MEASURE_WIDTH = 640;

/** Everything the editor draws before a model is loaded: the network and the built-in groupings. */
export interface PruneArchitecture {
  /** Every conv of EResFD (heads included), in the core's table order. */
  convs: ConvSpec[];
  /** Modules a group may name, in forward order. */
  modules: string[];
  groupings: Array<{ grouping: Grouping; stats: GroupStats[] }>;
  /** All conv MACs at 480×640. */
  totalMacs: number;
}

/** What the editor sends: the grouping itself (built-in or custom), one rate per group, an optional target. */
export interface PruneRequest {
  grouping: Grouping;
  rates: number[];
  /** Target sparsity as a fraction (SPEC §3.4) or null. */
  target?: number | null;
}

export interface PrunePreview {
  groupingId: string;
  rates: number[];
  /** Percent of parameters exactly zero after FPGM (SPEC §3.4): what `info` reports for the written file. */
  sparsity: number;
  parameters: number;
  zeroParameters: number;
  /** Parameters not zero. */
  parametersKept: number;
  /** Conv MACs at 480×640 that produce zeroed filters. */
  macs: MacsRemoved;
  groups: Array<{ name: string; rate: number; filters: number; zeroedFilters: number }>;
  /** Zeroed output filters per conv module name (every grouped conv, empty when none). */
  pruned: Record<string, number[]>;
  /** SPEC §3.4 penalty of this sparsity for the target, when one is set. */
  penalty: number | null;
  /** Worker time spent on this preview. */
  computeMs: number;
}

export interface PruneTiming {
  groupingId: string;
  rates: number[];
  /** Median forward of the loaded (unpruned) model, ms per 480×640 frame, timed alongside the others. */
  originalMs: number;
  /** Median forward of the masked model (zeros still multiplied: same work as the original). */
  maskedMs: number;
  /** Median forward of the compacted model (zeroed filters physically removed), or null if compaction failed. */
  compactMs: number | null;
  /** Parameters of the compacted model, or null. */
  compactParameters: number | null;
  /** Conv MACs per 480×640 frame of the compacted model, or null. */
  compactMacs: number | null;
  compactError: string | null;
  runs: number;
  backend: string;
  /** ForwardTimes.protocol (the zoo shows the same). */
  protocol: string;
}

export interface PrunedCheckpoint {
  /** The FPGM-zeroed checkpoint (PyTorch zip, the CLI's `fpgm --out` bytes). */
  bytes: ArrayBuffer;
  info: ModelInfo & { archiveName: string };
  plan: PruningPlan;
}

function requireModel(getModel: () => EResFDModel | null): EResFDModel {
  const model = getModel();
  if (!model) throw new StudioError('NOT_FOUND', 'No model is loaded: load a checkpoint first.');
  return model;
}

const PRUNABLE = new Set(PRUNABLE_MODULES);

/** The editor's API; `getModel` returns the worker's loaded model. */
export function createPruneWorkbench(getModel: () => EResFDModel | null) {
  return {
    /** The network table and the built-in groupings with their sizes at 480×640 (no model needed). */
    pruneArchitecture(): PruneArchitecture {
      return {
        convs: CONVS.map((c) => ({ ...c })),
        modules: [...PRUNABLE_MODULES],
        groupings: Object.values(GROUPINGS).map((grouping) => ({ grouping, stats: groupStats(grouping, MEASURE_HEIGHT, MEASURE_WIDTH) })),
        totalMacs: totalMacs(MEASURE_HEIGHT, MEASURE_WIDTH),
      };
    },

    /** Checks a (custom) grouping and returns its sizes; throws StudioError CONFIG_INVALID with the reason. */
    pruneGroupingStats(grouping: Grouping): GroupStats[] {
      return groupStats(validateGrouping(grouping), MEASURE_HEIGHT, MEASURE_WIDTH);
    },

    /** FPGM distance sums (SPEC §3.3) of every prunable conv of the loaded model, by conv module name. */
    pruneScores(): Record<string, number[]> {
      const { planner } = modelCache(requireModel(getModel));
      const out: Record<string, number[]> = {};
      for (const c of CONVS) if (PRUNABLE.has(c.owner)) out[c.name] = Array.from(planner.scores(c.name));
      return out;
    },

    /** The plan's numbers for one rate vector: fast (selection + counting only), called while dragging. */
    prunePreview(request: PruneRequest): PrunePreview {
      const t0 = performance.now();
      const cache = modelCache(requireModel(getModel));
      const plan = cache.planner.plan(request.grouping, request.rates);
      const sparsity = cache.sparsity(plan);
      const zeroParameters = Math.round((sparsity / 100) * cache.parameters);
      const pruned: Record<string, number[]> = {};
      for (const c of plan.convs) pruned[c.key.slice(0, -'.weight'.length)] = c.pruned;
      const target = request.target ?? null;
      return {
        groupingId: request.grouping.id,
        rates: [...request.rates],
        sparsity,
        parameters: cache.parameters,
        zeroParameters,
        parametersKept: cache.parameters - zeroParameters,
        macs: macsRemoved(plan, MEASURE_HEIGHT, MEASURE_WIDTH),
        groups: planGroupSummary(plan),
        pruned,
        penalty: target === null ? null : search.sparsityPenalty(sparsity / 100, target),
        computeMs: performance.now() - t0,
      };
    },

    /**
     * ms/frame at 480×640 of the masked model (the plan applied, zeros kept: the same work as the
     * original) and of the compacted one. Slow (several forwards): call it once a drag has settled.
     */
    async pruneMeasure(request: PruneRequest, runs = 5): Promise<PruneTiming> {
      const model = requireModel(getModel);
      const plan = modelCache(model).planner.plan(request.grouping, request.rates);
      const masked = applyPlanToStateDict(model.stateDict, plan);
      const maskedModel = createEResFD(masked);
      let compact: CompactedModel | null = null;
      let compactError: string | null = null;
      try {
        compact = compactEResFD(masked, { source: 'rate editor' }).model;
      } catch (e) {
        compactError = e instanceof Error ? e.message : String(e);
      }
      try {
        const times = await timeForwards(compact ? [model, maskedModel, compact] : [model, maskedModel], { runs, height: MEASURE_HEIGHT, width: MEASURE_WIDTH });
        const [originalMs, maskedMs, compactMs] = times.medianMs;
        const described = compact?.describe() ?? null;
        return {
          groupingId: request.grouping.id,
          rates: [...request.rates],
          originalMs: originalMs!,
          maskedMs: maskedMs!,
          compactMs: compactMs ?? null,
          compactParameters: described?.parameters ?? null,
          compactMacs: described?.macs480x640 ?? null,
          compactError,
          runs,
          backend: times.backend,
          protocol: times.protocol,
        };
      } finally {
        maskedModel.dispose();
        compact?.dispose();
      }
    },

    /** The FPGM-zeroed checkpoint for these rates (no training), as `npm run cli -- fpgm --out` writes it. */
    prunedCheckpoint(request: PruneRequest): PrunedCheckpoint {
      const model = requireModel(getModel);
      const plan = modelCache(model).planner.plan(request.grouping, request.rates);
      const sd = applyPlanToStateDict(model.stateDict, plan);
      const archiveName = 'bfpgm-studio';
      const bytes = writeCheckpoint(sd, { archiveName });
      const buffer = bytes.buffer.byteLength === bytes.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
      return { bytes: buffer, info: { ...describeModel(sd), archiveName }, plan };
    },
  };
}

export type PruneWorkbench = ReturnType<typeof createPruneWorkbench>;
