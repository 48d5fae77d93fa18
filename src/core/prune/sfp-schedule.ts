/**
 * SFP schedule of `main_sfp.py`: prune after epochs 0, every, 2·every, … and after the last one.
 * `epoch` counts from 0. TF-free: the budget plan reads it too.
 */
export function isSoftPruneEpoch(epoch: number, epochs: number, every = 5): boolean {
  return epoch % every === 0 || epoch === epochs - 1;
}
