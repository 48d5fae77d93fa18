/**
 * Model card numbers: unique parameters, zero-parameter sparsity exactly as `utilities.calc_sparsity`
 * (SPEC §3.4: every parameter incl. BN and heads, buffers excluded), per-group counts and MACs.
 */
import type { ModelInfo, StateDict } from '../types.ts';
import { CODE_GROUPING, groupIndexOfKey, type Grouping } from './layer-groups.ts';
import { isParameterKey, totalMacs } from '../model/eresfd/architecture.ts';

export function describeModel(stateDict: StateDict, grouping: Grouping = CODE_GROUPING): ModelInfo {
  const groups = grouping.groups.map((g) => ({ name: g.name, parameters: 0, zeros: 0 }));
  const ungrouped = { name: 'heads', parameters: 0, zeros: 0 };
  let parameters = 0;
  let zeros = 0;
  for (const [key, t] of stateDict) {
    if (!isParameterKey(key)) continue;
    const data = t.data as Float32Array;
    let z = 0;
    for (let i = 0; i < data.length; i++) if (data[i] === 0) z++;
    parameters += data.length;
    zeros += z;
    const gi = groupIndexOfKey(grouping, key);
    const target = gi >= 0 ? groups[gi]! : ungrouped;
    target.parameters += data.length;
    target.zeros += z;
  }
  return {
    parameters,
    sparsity: parameters ? (100 * zeros) / parameters : 0,
    groups,
    ungrouped,
    macs480x640: totalMacs(480, 640),
  };
}
