import { describe, expect, it } from 'vitest';
import { estimateRemainingMs, formatBytes, formatCount, formatEta, formatFraction, formatMs, formatPercent, formatSize, MACS_FRAME } from '../../src/app/format.ts';

describe('format', () => {
  it('formats counts, durations, percentages and sizes', () => {
    expect(formatCount(92208)).toBe('92,208');
    expect(formatMs(8.43)).toBe('8.4 ms');
    expect(formatMs(135.1)).toBe('135 ms');
    expect(formatMs(6973.4)).toBe('6.97 s');
    expect(formatPercent(0.08676)).toBe('0.09 %');
    expect(formatPercent(0.1)).toBe('0.10 %');
    expect(formatPercent(21.34, 1)).toBe('21.3 %');
    expect(formatFraction(0.316)).toBe('31.60 %');
    expect(formatSize(512, 384)).toBe('512×384 px');
    expect(MACS_FRAME).toBe('640×480 px');
    expect(formatBytes(611_496)).toBe('611 kB');
    expect(formatBytes(2_400_000)).toBe('2.4 MB');
    expect(formatBytes(1_383_000_000)).toBe('1.38 GB');
  });

  it('formats remaining times and estimates them from progress', () => {
    expect(formatEta(8_400)).toBe('8 s');
    expect(formatEta(185_000)).toBe('3 min 05 s');
    expect(formatEta(3_720_000)).toBe('1 h 02 min');
    expect(estimateRemainingMs(0, 10, 500)).toBeNull();
    expect(estimateRemainingMs(25, 100, 1000)).toBe(3000);
  });
});
