/**
 * The real consumer: PyTorch itself loads what writeCheckpoint produces. Needs a Python with torch
 * (Debian's python3-torch installs it for /usr/bin/python3; BFPGM_PYTHON overrides). Outside CI
 * the suite skips when no such Python exists; with CI=true it fails instead of skipping.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { ALL_KEYS_IN_ORDER } from '../../../src/core/checkpoint/state-dict-map.ts';
import { writeCheckpoint } from '../../../src/core/checkpoint/write-checkpoint.ts';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { IN_CI, TORCH_PYTHON as PYTHON } from '../../helpers/torch-python.ts';

const CHECK_SCRIPT = String.raw`
import json, sys, torch
ours_path, orig_path, cpu_path, aliases_path = sys.argv[1:5]
aliases = json.load(open(aliases_path))
ours = torch.load(ours_path, map_location='cpu')
orig = torch.load(orig_path, map_location='cpu')
bits = lambda t: t.view(torch.int32) if t.dtype == torch.float32 else t
def groups(sd):
    g = {}
    for k, t in sd.items():
        g.setdefault((t.data_ptr(), t.storage_offset(), tuple(t.shape)), []).append(k)
    return sorted(sorted(v) for v in g.values())
res = {
    'type': type(ours).__name__,
    'keys': list(ours.keys()),
    'orig_keys_equal': list(ours.keys()) == list(orig.keys()),
    'dtypes_equal': all(ours[k].dtype == orig[k].dtype and ours[k].shape == orig[k].shape for k in orig),
    'bits_equal': all(torch.equal(bits(ours[k]), bits(orig[k])) for k in orig),
    'aliases_share_memory': all(ours[a].data_ptr() == ours[c].data_ptr() for a, c in aliases.items()),
    'unique_storages': len(set(t.data_ptr() for t in ours.values())),
    'alias_groups_equal': groups(ours) == groups(orig),
    'metadata_equal': getattr(ours, '_metadata', None) == getattr(orig, '_metadata', None),
    'device': str(next(iter(ours.values())).device),
}
try:
    torch.load(ours_path, map_location='cpu', weights_only=True)
    res['weights_only'] = 'ok'
except TypeError:
    res['weights_only'] = 'unsupported by this torch'
cpu = torch.load(cpu_path)  # location 'cpu': loads without map_location on a CPU-only machine
res['cpu_devices'] = sorted(set(str(t.device) for t in cpu.values()))
res['cpu_bits_equal'] = all(torch.equal(bits(cpu[k]), bits(orig[k])) for k in orig)
print(json.dumps(res))
`;

describe.skipIf(!HAS_SHARED || (!PYTHON && !IN_CI))('torch.load reads what writeCheckpoint writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-torch-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('EResFD-30-pruned: 920 keys in order, aliases share memory, values bit-identical to the original file', () => {
    expect(PYTHON, 'CI=true needs python3 with torch (apt-get install python3-torch)').not.toBeNull();
    const file = 'EResFD-30-pruned.pth';
    const ckpt = readCheckpoint(readShared('models', file));
    const ours = join(dir, 'ours.pth');
    const oursCpu = join(dir, 'ours-cpu.pth');
    const aliases = join(dir, 'aliases.json');
    writeFileSync(ours, writeCheckpoint(ckpt.stateDict));
    writeFileSync(oursCpu, writeCheckpoint(ckpt.stateDict, { location: 'cpu' }));
    writeFileSync(aliases, JSON.stringify(Object.fromEntries(ALL_KEYS_IN_ORDER.filter((k) => k.aliasOf).map((k) => [k.key, k.aliasOf]))));

    const r = spawnSync(PYTHON!, ['-c', CHECK_SCRIPT, ours, sharedPath('models', file), oursCpu, aliases], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(res.type).toBe('OrderedDict');
    expect(res.keys).toEqual(ALL_KEYS_IN_ORDER.map((k) => k.key));
    expect(res.orig_keys_equal).toBe(true);
    expect(res.dtypes_equal).toBe(true);
    expect(res.bits_equal).toBe(true);
    expect(res.aliases_share_memory).toBe(true);
    expect(res.unique_storages).toBe(475);
    expect(res.alias_groups_equal).toBe(true);
    expect(res.metadata_equal).toBe(true);
    expect(res.device).toBe('cpu');
    expect(['ok', 'unsupported by this torch']).toContain(res.weights_only);
    expect(res.cpu_devices).toEqual(['cpu']);
    expect(res.cpu_bits_equal).toBe(true);
  });
});
