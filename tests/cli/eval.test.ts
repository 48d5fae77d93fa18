/** `eval` through the CLI: a prediction folder in the official txt format, and a model on a few images. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAS_SHARED, readSharedJson, sharedPath } from '../helpers/shared.ts';
import { evaluateWider, widerImageKey } from '../../src/core/index.ts';
import { formatFixed } from '../../src/core/eval/prediction-txt.ts';
import { presentValImages, readValGroundTruth } from '../../src/platform/node/wider-folder.ts';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const cli = async (...args: string[]) => JSON.parse((await run(TSX, ['src/cli/main.ts', ...args], { maxBuffer: 64 << 20 })).stdout);

describe.skipIf(!HAS_SHARED)('cli eval', () => {
  it('--predictions scores a txt folder like the evaluator on the images present', async () => {
    const dir = sharedPath('widerface');
    const gt = await readValGroundTruth(dir);
    const present = await presentValImages(dir, gt);
    expect(present).toHaveLength(200);
    const preds = readSharedJson<Record<string, Record<string, number[][]>>>('golden/eval_synth/preds.json');
    const out = mkdtempSync(join(tmpdir(), 'bfpgm-preds-'));
    const subset: Record<string, Record<string, number[][]>> = {};
    for (const ref of present) {
      const rows = preds[ref.event]![ref.name]!;
      (subset[ref.event] ??= {})[ref.name] = rows;
      mkdirSync(join(out, ref.event), { recursive: true });
      const lines = rows.map((r) => `${formatFixed(r[0]!, 1)} ${formatFixed(r[1]!, 1)} ${formatFixed(r[2]!, 1)} ${formatFixed(r[3]!, 1)} ${formatFixed(r[4]!, 3)}`);
      writeFileSync(join(out, ref.event, `${ref.name}.txt`), [`${ref.event}/${ref.name}.jpg`, rows.length, ...lines].join('\n') + '\n');
    }
    const res = await cli('eval', '--predictions', out, '--widerface', dir, '--json');
    const direct = evaluateWider(gt, subset, { restrictTo: present.map((r) => widerImageKey(r.event, r.name)) });
    expect(res.images).toBe(200);
    expect(res.easy).toBeCloseTo(direct.easy, 12);
    expect(res.medium).toBeCloseTo(direct.medium, 12);
    expect(res.hard).toBeCloseTo(direct.hard, 12);
  });

  it('--model runs both protocols and reports AP', async () => {
    const model = sharedPath('models/EResFD-original.pth');
    const dir = sharedPath('widerface');
    const single = await cli('eval', '--model', model, '--widerface', dir, '--limit', '6', '--json');
    expect(single).toMatchObject({ images: 6, protocol: 'single', backend: 'wasm' });
    for (const k of ['easy', 'medium', 'hard']) expect(single[k]).toBeGreaterThan(0.3);
    const full = await cli('eval', '--model', model, '--widerface', dir, '--limit', '2', '--protocol', 'full', '--json');
    expect(full).toMatchObject({ images: 2, protocol: 'full' });
    for (const k of ['easy', 'medium', 'hard']) expect(full[k]).toBeGreaterThanOrEqual(0);
    expect(full.hard).toBeGreaterThan(0.2);
  });
});
