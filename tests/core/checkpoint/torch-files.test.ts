/**
 * Issue 11 items 1 and 3 with real torch files: PyTorch itself writes them here (into a temp dir,
 * from ../shared's checkpoints), the studio's one load entry reads them. Protocol 4 and 5 checkpoints
 * load and detect exactly like the original; a TorchScript archive, an nn.Linear, int64 or float64
 * weights, a missing key and a wrong shape each get their own clear error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEResFDCheckpoint, readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { createEResFD } from '../../../src/core/model/eresfd/eresfd.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { detectFaces } from '../../../src/core/detect/detect-faces.ts';
import type { ErrorCode } from '../../../src/core/errors.ts';
import type { HostTensor, RgbImage, StateDict } from '../../../src/core/types.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readNpy } from '../../helpers/npy.ts';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { IN_CI, TORCH_PYTHON, runTorchPython } from '../../helpers/torch-python.ts';
import { expectStudioError } from './fixtures.ts';

const GENERATE = String.raw`
import sys, torch, torch.nn as nn
models, out = sys.argv[1:3]
sd = torch.load(models + '/EResFD-original.pth', map_location='cpu')
pruned = torch.load(models + '/EResFD-60-pruned.pth', map_location='cpu')
for p in (4, 5):
    torch.save(sd, f'{out}/p{p}.pth', pickle_protocol=p)
torch.save(pruned, f'{out}/pruned60-p4.pth', pickle_protocol=4)
torch.jit.save(torch.jit.script(nn.Linear(3, 2)), f'{out}/torchscript.pt')
torch.save(nn.Linear(3, 2).state_dict(), f'{out}/linear.pth')
def variant(name, change):
    v = type(sd)((k, t.clone()) for k, t in sd.items())
    change(v)
    torch.save(v, f'{out}/{name}.pth')
def drop(v):
    del v['loc.0.bias']; del v['loc0.bias']
def set_both(key, alias, value):
    def change(v):
        v[key] = value; v[alias] = value
    return change
variant('int64', set_both('conf.0.weight', 'conf0.weight', sd['conf.0.weight'].long()))
variant('float64', set_both('conf.0.weight', 'conf0.weight', sd['conf.0.weight'].double()))
variant('wrong-shape', set_both('conf.0.weight', 'conf0.weight', torch.zeros(2, 16, 1, 1)))
variant('missing', drop)
print('ok')
`;

const bits = (t: HostTensor) => (t.data instanceof Float32Array ? new Int32Array(t.data.buffer, t.data.byteOffset, t.data.length) : t.data);

describe.skipIf(!HAS_SHARED || (!TORCH_PYTHON && !IN_CI))('torch-written files through loadEResFDCheckpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-torch-files-'));
  const file = (name: string) => {
    const b = readFileSync(join(dir, name));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  };
  let original: StateDict;
  let image: RgbImage;
  beforeAll(() => {
    expect(TORCH_PYTHON, 'CI=true needs python3 with torch (apt-get install python3-torch)').not.toBeNull();
    expect(runTorchPython(GENERATE, [sharedPath('models'), dir]).trim()).toBe('ok');
    original = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
    const a = readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy'));
    image = { width: a.shape[1]!, height: a.shape[0]!, channels: 3, data: a.data as Uint8Array };
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const protocol of [4, 5]) {
    it(`pickle_protocol=${protocol}: every tensor bit-identical to the original, same detections`, async () => {
      const ckpt = loadEResFDCheckpoint(file(`p${protocol}.pth`));
      expect(ckpt.keys).toHaveLength(920);
      expect(ckpt.stateDict.size).toBe(475);
      for (const [key, t] of original) {
        const ours = ckpt.stateDict.get(key)!;
        expect(ours.shape, key).toEqual(t.shape);
        expect(bits(ours), key).toEqual(bits(t));
      }
      await useBackend('cpu');
      const a = createEResFD(original);
      const b = createEResFD(ckpt.stateDict);
      try {
        const [da, db] = [await detectFaces(a, image), await detectFaces(b, image)];
        expect(da.detections.length).toBeGreaterThan(0);
        expect(db.detections).toEqual(da.detections);
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('a released pruned checkpoint re-saved with protocol 4 loads with its zeros (60 % pruned)', () => {
    const reference = describeModel(readCheckpoint(readShared('models', 'EResFD-60-pruned.pth')).stateDict);
    const info = describeModel(loadEResFDCheckpoint(file('pruned60-p4.pth')).stateDict);
    expect(info.parameters).toBe(92_208);
    expect(info.sparsity).toBe(reference.sparsity);
    expect(info.sparsity).toBeGreaterThan(50);
  });

  const REFUSED: Array<[string, string, ErrorCode, RegExp]> = [
    ['a TorchScript archive (torch.jit.save)', 'torchscript.pt', 'TORCHSCRIPT_ARCHIVE', /TorchScript archive \(torch\.jit\.save: it holds [^)]*\/(code\/|constants\.pkl)/],
    ['an nn.Linear state dict', 'linear.pth', 'CHECKPOINT_ARCHITECTURE', /None of its 2 keys is an EResFD key: this is a different network\..*unexpected: weight \[2,3\] float32, bias \[2\] float32/],
    ['int64 weights', 'int64.pth', 'CHECKPOINT_ARCHITECTURE', /conf\.0\.weight: expected \[4,16,1,1\] float32, found \[4,16,1,1\] int64/],
    ['float64 weights', 'float64.pth', 'CHECKPOINT_UNSUPPORTED', /torch\.DoubleStorage/],
    ['a conv of the wrong shape', 'wrong-shape.pth', 'CHECKPOINT_ARCHITECTURE', /conf\.0\.weight: expected \[4,16,1,1\] float32, found \[2,16,1,1\] float32/],
    ['a missing key', 'missing.pth', 'CHECKPOINT_ARCHITECTURE', /1 missing: loc\.0\.bias \[4\] float32/],
  ];
  for (const [what, name, code, message] of REFUSED) {
    it(`${what} → ${code}`, () => {
      expectStudioError(() => loadEResFDCheckpoint(file(name)), code, message);
    });
  }
});
