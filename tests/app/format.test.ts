import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatMs, formatPercent } from '../../src/app/format.ts';

describe('format', () => {
  it('formats counts, durations, percentages and sizes', () => {
    expect(formatCount(92208)).toBe('92,208');
    expect(formatMs(8.43)).toBe('8.4 ms');
    expect(formatMs(135.1)).toBe('135 ms');
    expect(formatMs(6973.4)).toBe('6.97 s');
    expect(formatPercent(0.08676)).toBe('0.09 %');
    expect(formatBytes(611_496)).toBe('611 kB');
    expect(formatBytes(2_400_000)).toBe('2.4 MB');
  });
});
