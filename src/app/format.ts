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

/** 100 · fraction, two decimals: "0.09 %". */
export function formatPercent(pct: number): string {
  return `${pct.toFixed(2)} %`;
}

/** A file size: "611 kB", "2.4 MB". */
export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}
