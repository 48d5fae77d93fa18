/** A complete EResFD state dict with seeded random weights, for tests that need no real checkpoint. */
import { EXPECTED_KEYS } from '../../../src/core/checkpoint/index.ts';
import { createRng } from '../../../src/core/util/random.ts';
import type { StateDict } from '../../../src/core/types.ts';

export function syntheticStateDict(seed = 1): StateDict {
  const rng = createRng(seed);
  const sd: StateDict = new Map();
  for (const k of EXPECTED_KEYS) {
    if (k.dtype === 'int64') {
      sd.set(k.key, { dtype: 'int64', shape: [...k.shape], data: BigInt64Array.of(0n) });
      continue;
    }
    const data = new Float32Array(k.numel);
    const positive = k.key.endsWith('.running_var');
    for (let i = 0; i < data.length; i++) data[i] = positive ? 0.5 + rng() : rng() * 2 - 1;
    sd.set(k.key, { dtype: 'float32', shape: [...k.shape], data });
  }
  return sd;
}
