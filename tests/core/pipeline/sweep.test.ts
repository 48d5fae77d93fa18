/** The sweep's target list and its table (the paper's layout) as CSV and Markdown. */
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/core/errors.ts';
import { parseTargets, sweepCsv, sweepMarkdown, sweepRunId, type SweepRow } from '../../../src/core/pipeline/index.ts';

describe('sweep', () => {
  it('parses fractions or percents and refuses nonsense', () => {
    expect(parseTargets('0.1,0.2, 0.3')).toEqual([0.1, 0.2, 0.3]);
    expect(parseTargets('10,20,60')).toEqual([0.1, 0.2, 0.6]);
    for (const bad of ['', 'a,b', '0.1,0.1', '0.99', '-0.1']) {
      let err: unknown;
      try {
        parseTargets(bad);
      } catch (e) {
        err = e;
      }
      expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
    }
    expect(sweepRunId('prune', 0.3)).toBe('prune-t30');
  });

  it('writes one row per target: target, sparsity, MACs, AP Easy/Medium/Hard in percent', () => {
    const rows: SweepRow[] = [
      { target: 0.1, targetKind: 'parameters', sparsity: 0.09876, macsRemoved: 0.1234, ap: { easy: 0.8512, medium: 0.8234, hard: 0.6345, images: 100, protocol: 'single' } },
      { target: 0.2, targetKind: 'parameters', sparsity: 0.2011, macsRemoved: 0.2222, ap: null },
    ];
    expect(sweepCsv(rows).split('\n')).toEqual([
      'target,target_kind,sparsity,macs_removed,ap_easy,ap_medium,ap_hard,ap_images,protocol',
      '10.00,parameters,9.8760,12.3400,85.1200,82.3400,63.4500,100,single',
      '20.00,parameters,20.1100,22.2200,,,,,',
      '',
    ]);
    const md = sweepMarkdown(rows).split('\n');
    expect(md[0]).toBe('| target (%) | sparsity (%) | MACs removed (%) | AP Easy (%) | AP Medium (%) | AP Hard (%) |');
    expect(md[2]).toBe('| 10 | 9.88 | 12.34 | 85.12 | 82.34 | 63.45 |');
    expect(md[3]).toBe('| 20 | 20.11 | 22.22 |  |  |  |');
    expect(md[5]).toMatch(/100 WIDER val images \(single protocol\)/);
  });
});
