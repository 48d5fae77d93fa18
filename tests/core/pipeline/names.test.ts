/** Short default model names, user-typed names, and download file names that never collide. */
import { describe, expect, it } from 'vitest';
import { cleanModelName, modelFileName, oneShotModelName, prunedModelName, shortStamp, trainedModelName } from '../../../src/core/pipeline/names.ts';

// Local time: the names show the clock of the person who ran it.
const AT = new Date(2026, 11, 4, 14, 5);

describe('model names', () => {
  it('are short: what, target, when', () => {
    expect(shortStamp(AT)).toBe('4 Dec 14:05');
    expect(prunedModelName(0.3, 'parameters', AT)).toBe('B-FPGM 30% · 4 Dec 14:05');
    expect(prunedModelName(0.425, 'macs', AT)).toBe('B-FPGM 42.5% MACs · 4 Dec 14:05');
    expect(oneShotModelName(0.3214, AT)).toBe('FPGM 32.1% · 4 Dec 14:05');
    expect(trainedModelName(3, new Date(2026, 0, 9, 8, 0))).toBe('Trained 3 ep · 9 Jan 08:00');
  });

  it('cleans what a user types and refuses empty or overlong names', () => {
    expect(cleanModelName('  my   30 %\tmodel ')).toBe('my 30 % model');
    expect(() => cleanModelName('   ')).toThrow(/needs a name/);
    expect(() => cleanModelName('x'.repeat(81))).toThrow(/at most 80/);
  });

  it('file names: a loaded file keeps its name; made-here models get a slug plus the content hash', () => {
    expect(modelFileName('EResFD-original.pth', 'abcdef0123456789', false)).toBe('EResFD-original.pth');
    const a = modelFileName('B-FPGM 30% · 4 Dec 14:05', 'abcdef0123456789', true);
    const b = modelFileName('B-FPGM 30% · 4 Dec 14:05', '0123456789abcdef', true);
    expect(a).toBe('B-FPGM-30pct-4-Dec-14-05-abcdef01.pth');
    expect(b).not.toBe(a);
    expect(modelFileName('///', 'ffff0000', true)).toBe('model-ffff0000.pth');
    expect(modelFileName('renamed', 'ffff0000aa', false)).toBe('renamed-ffff0000.pth');
  });
});
