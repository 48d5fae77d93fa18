/**
 * Issue 11 item 2 for the WIDER import's zip reader (browser worker): an entry inflating past its
 * declared size, or declaring an implausible one, stops the import with DATASET_FORMAT quickly and
 * without inflating it whole. The zips are built here (see tests/core/checkpoint/fixtures.ts).
 */
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../../../src/core/errors.ts';
import { extractEntries, readZipIndex } from '../../../../src/platform/browser/wider-import/index.ts';
import { deflateBomb, rawZip } from '../../../core/checkpoint/fixtures.ts';
import { costOfFailure, expectCheap } from '../../../helpers/resources.ts';

const GiB = 2 ** 30;

describe('WIDER zip entries are inflated within limits', () => {
  const CASES: Array<[string, number, RegExp]> = [
    ['a 1 MB entry declaring 1 MiB that inflates to 1 GiB', 2 ** 20, /0_Parade_bomb\.jpg: inflates past its declared 1048576 bytes/],
    ['a 1 MB entry honestly declaring 1 GiB (over 100:1)', GiB, /0_Parade_bomb\.jpg: declares 1073741824 bytes from \d+ compressed, over the limit/],
  ];
  for (const [what, declared, message] of CASES) {
    it(`${what} → DATASET_FORMAT, < 1 s, RSS + < 200 MB`, async () => {
      const zip = rawZip('WIDER_val/images/0--Parade/0_Parade_bomb.jpg', deflateBomb(GiB), { method: 8, declaredSize: declared });
      const index = await readZipIndex(new Blob([zip]), 'WIDER_val.zip');
      const cost = await costOfFailure(() => extractEntries(index, [0], () => {}));
      expect(isStudioError(cost.error, 'DATASET_FORMAT'), String(cost.error)).toBe(true);
      expect((cost.error as Error).message).toMatch(message);
      expectCheap(cost);
    });
  }
});
