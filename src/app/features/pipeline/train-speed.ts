/**
 * Training throughput per backend, size and batch (images/s), measured by the pipeline worker's
 * warm-up probe or by a run's epochs, kept in localStorage so a budget's duration can be estimated
 * before anything starts. A throughput at another size is scaled by pixel count (conv cost ∝ S²).
 */

export interface TrainSpeed {
  backend: string;
  size: number;
  batchSize: number;
  imagesPerSec: number;
  /** 'probe' (warm-up measurement) or 'run' (a finished epoch). */
  source: 'probe' | 'run';
  at: number;
}

const KEY = 'bfpgm-train-speed';

function readAll(): Record<string, TrainSpeed> {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Record<string, TrainSpeed>) : {};
  } catch {
    return {};
  }
}

const keyOf = (backend: string, size: number, batchSize: number) => `${backend}/${size}/${batchSize}`;

export function storeTrainSpeed(speed: TrainSpeed): void {
  if (!(speed.imagesPerSec > 0) || !Number.isFinite(speed.imagesPerSec)) return;
  const all = readAll();
  all[keyOf(speed.backend, speed.size, speed.batchSize)] = speed;
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Storage full or disabled: the estimate is a convenience.
  }
}

/**
 * The best stored throughput for `size`/`batchSize` on `backend`: an exact match, else the closest
 * size scaled by (S₀/S)², marked `scaled`. Null when nothing was measured on this backend.
 */
export function lookupTrainSpeed(backend: string, size: number, batchSize: number): (TrainSpeed & { scaled: boolean }) | null {
  const all = Object.values(readAll()).filter((s) => s.backend === backend);
  const exact = all.find((s) => s.size === size && s.batchSize === batchSize);
  if (exact) return { ...exact, scaled: false };
  if (all.length === 0) return null;
  const near = all.reduce((a, b) => (Math.abs(Math.log(b.size / size)) < Math.abs(Math.log(a.size / size)) ? b : a));
  return { ...near, size, batchSize, imagesPerSec: near.imagesPerSec * (near.size / size) ** 2, scaled: true };
}
