/**
 * Step 1 of an import, also shown to the user before importing: index the sources, parse the
 * annotation lists and the val ground-truth .mat files (the core's parsers), and tell per split how
 * many images are annotated and found. Reads only the small files, never the images.
 */
import {
  StudioError,
  wider,
  type WiderEntry,
  type WiderGroundTruth,
} from '../../../core/data/index.ts';
import { sha256Hex, type WiderSplit } from '../idb-store.ts';
import {
  GT_FILE_NAMES,
  catalogSources,
  describeItem,
  readCatalogItem,
  type CatalogItem,
  type GtFileName,
  type ImportSource,
  type SourceSummary,
  type WiderCatalog,
} from './wider-sources.ts';

export const WIDER_SPLITS: readonly WiderSplit[] = ['train', 'val'];

export interface PreparedSplit {
  split: WiderSplit;
  annotation: CatalogItem | null;
  /** The annotation file's text and parsed entries (empty without an annotation file). */
  text: string;
  entries: WiderEntry[];
}

export interface PreparedWider {
  catalog: WiderCatalog;
  splits: Record<WiderSplit, PreparedSplit>;
  /** Val ground truth, when wider_{easy,medium,hard}_val.mat were given. */
  groundTruth: WiderGroundTruth | null;
  /** SHA-256 over the .mat files given ('' without). */
  groundTruthDigest: string;
}

/** Per split, what an import would find (structured-cloneable, for the UI). */
export interface SplitInspection {
  split: WiderSplit;
  /** Where the annotation list was found, or null. */
  annotation: string | null;
  /** Images listed in the annotation file. */
  annotated: number;
  faces: number;
  events: number;
  /** JPEGs of this split among the sources. */
  imagesFound: number;
  /** Listed images without a JPEG among the sources (an import selecting one fails). */
  missing: number;
  missingExamples: string[];
}

export interface WiderInspection {
  sources: SourceSummary[];
  splits: SplitInspection[];
  /** The .mat files found (file names), and the val images they cover; null when none were given. */
  groundTruth: { files: string[]; images: number; events: number } | null;
}

export async function prepareWider(sources: readonly ImportSource[], signal?: AbortSignal): Promise<PreparedWider> {
  const catalog = await catalogSources(sources, signal);
  const splits = {} as Record<WiderSplit, PreparedSplit>;
  for (const split of WIDER_SPLITS) {
    const annotation = catalog.annotations[split] ?? null;
    let text = '';
    let entries: WiderEntry[] = [];
    if (annotation) {
      const bytes = await readCatalogItem(annotation, signal);
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new StudioError('DATASET_FORMAT', `${describeItem(annotation)} is not a text file.`);
      }
      entries = wider.parseBbxGt(text, { fileName: describeItem(annotation) });
    }
    splits[split] = { split, annotation, text, entries };
  }

  const gtItems = catalog.groundTruth;
  let groundTruth: WiderGroundTruth | null = null;
  let groundTruthDigest = '';
  const given = (Object.keys(gtItems) as GtFileName[]).filter((k) => gtItems[k]);
  if (given.length > 0) {
    const missing = wider.WIDER_SETTINGS.filter((s) => !gtItems[s]).map((s) => GT_FILE_NAMES[s]);
    if (missing.length > 0) {
      throw new StudioError('MAT_FORMAT', `The val ground truth is incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (the eval_tools/ground_truth folder holds all four .mat files).`);
    }
    const read = async (k: GtFileName) => (gtItems[k] ? readCatalogItem(gtItems[k], signal) : undefined);
    const [faceVal, easy, medium, hard] = await Promise.all((['faceVal', 'easy', 'medium', 'hard'] as const).map(read));
    groundTruth = wider.readWiderGroundTruth({ faceVal, easy: easy!, medium: medium!, hard: hard! });
    const digests = await Promise.all([faceVal, easy, medium, hard].map((b) => (b ? sha256Hex(b as Uint8Array<ArrayBuffer>) : '')));
    groundTruthDigest = await sha256Hex(new TextEncoder().encode(digests.join(',')));
  }
  return { catalog, splits, groundTruth, groundTruthDigest };
}

/** The summary the UI shows before importing. */
export function describePrepared(prepared: PreparedWider): WiderInspection {
  const splits: SplitInspection[] = [];
  for (const split of WIDER_SPLITS) {
    const { annotation, entries } = prepared.splits[split];
    const found = prepared.catalog.images[split];
    if (!annotation && found.size === 0) continue;
    const missing = entries.filter((e) => !found.has(wider.imageKeyFromPath(e.path)));
    splits.push({
      split,
      annotation: annotation ? describeItem(annotation) : null,
      annotated: entries.length,
      faces: entries.reduce((n, e) => n + e.faces.length, 0),
      events: new Set(entries.map((e) => e.event)).size,
      imagesFound: found.size,
      missing: missing.length,
      missingExamples: missing.slice(0, 3).map((e) => e.path),
    });
  }
  const gt = prepared.groundTruth;
  const files = (Object.keys(prepared.catalog.groundTruth) as GtFileName[]).map((k) => GT_FILE_NAMES[k]);
  return {
    sources: prepared.catalog.sources,
    splits,
    groundTruth: gt ? { files, images: gt.events.reduce((n, e) => n + e.images.length, 0), events: gt.events.length } : null,
  };
}
