/** Number formatting shared by the studio's panels. */

const COUNT = new Intl.NumberFormat('en-US');

/** 92208 → "92,208". */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** A duration for humans: "8.4 ms", "135 ms", "6.97 s". */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/**
 * The studio's one percent format: a value already in percent, two decimals by default, so the same quantity
 * reads the same on every page ("0.09 %", never "0.1 %" here and "0.09 %" there). Rates pass 1: they are
 * set in 0.1 % steps.
 */
export function formatPercent(pct: number, digits = 2): string {
  return `${pct.toFixed(digits)} %`;
}

/** A fraction (0–1) as a percent: 0.316 → "31.60 %". */
export function formatFraction(fraction: number, digits = 2): string {
  return formatPercent(100 * fraction, digits);
}

/** An image or frame size, always width × height with its unit: "640×480 px". */
export function formatSize(width: number, height: number): string {
  return `${width}×${height} px`;
}

/** The frame at which the studio counts MACs (the core's 480×640, H×W), written the studio's way. */
export const MACS_FRAME = formatSize(640, 480);

/** A file size: "611 kB", "2.4 MB", "1.38 GB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

/** A remaining time for progress lines: "8 s", "3 min 05 s", "1 h 02 min". */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Remaining time of a run from its progress so far; null until there is a rate to go by. */
export function estimateRemainingMs(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || total <= 0 || elapsedMs <= 0) return null;
  return (elapsedMs / done) * Math.max(0, total - done);
}
