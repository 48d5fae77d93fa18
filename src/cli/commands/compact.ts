/**
 * `compact --model X.pth --out DIR [--strategy carrier|bias-map|keep] [--format tfjs|onnx] [--dense] [--report] [--json]`:
 * physically removes B-FPGM's zeroed filters (src/core/compact), writes DIR/model.json +
 * DIR/group1-shard1of1.bin (TF.js-style layout, our own topology: load with loadCompacted) or, with
 * `--format onnx`, DIR/<checkpoint>.onnx (`--dense`: every channel kept), and checks the result against
 * the dense model on a fixed 480×640 ramp image (the ONNX file as ONNX Runtime Web runs it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  compaction,
  StudioError,
  compactEResFD,
  createEResFD,
  onnxExport,
  describeModel,
  totalMacs,
  rampInput,
  type BorderStrategy,
  type FaceModel,
} from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { loadStateDict, parseFlags, prepareOutputFolder, print, requireFlag } from './common.ts';

const H = 480, W = 640;

export async function compact(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' },
    out: { type: 'string' },
    strategy: { type: 'string', default: compaction.DEFAULT_BORDER_STRATEGY, choices: compaction.BORDER_STRATEGIES },
    report: { type: 'boolean' },
    format: { type: 'string', default: 'tfjs', choices: ['tfjs', 'onnx'] },
    dense: { type: 'boolean' },
  });
  const format = flags.format as 'tfjs' | 'onnx';
  if (flags.dense && format !== 'onnx') throw new StudioError('CONFIG_INVALID', '--dense applies to --format onnx only');
  const strategy = flags.strategy as BorderStrategy;
  const modelPath = requireFlag(flags, 'model');
  const outDir = requireFlag(flags, 'out');
  await prepareOutputFolder('out', outDir);
  const sd = await loadStateDict(modelPath);
  const backend = await selectNodeBackend(flags.backend);
  const dense = createEResFD(sd);
  const { model, analysis } = compactEResFD(sd, { strategy, source: basename(modelPath) });
  try {
    const input = rampInput(H, W);
    let maxAbsDiff: number;
    let files: string[];
    if (format === 'onnx') {
      const onnxBytes = onnxExport.exportEResFDOnnx(flags.dense ? onnxExport.denseWeights(sd, basename(modelPath)) : model.weights);
      files = [join(outDir, `${basename(modelPath).replace(/\.pth?$/i, '')}${flags.dense ? '' : '-compact'}.onnx`)];
      await writeFile(files[0]!, onnxBytes);
      maxAbsDiff = await onnxHeadDiff(onnxBytes, flags.dense ? dense : model, input);
    } else {
      maxAbsDiff = await compaction.maxHeadDiff(dense, model, input, H, W);
      const { manifest, weights } = compaction.serializeCompacted(model);
      files = [join(outDir, compaction.COMPACT_MODEL_FILE), join(outDir, compaction.COMPACT_WEIGHTS_FILE)];
      await writeFile(files[0]!, `${JSON.stringify(manifest)}\n`);
      await writeFile(files[1]!, weights);
    }

    const d = model.describe();
    const before = { parameters: describeModel(sd).parameters, macs: totalMacs(H, W) };
    const out = {
      parameters_before: before.parameters,
      parameters_after: flags.dense ? before.parameters : d.parameters,
      macs_before: before.macs,
      macs_after: flags.dense ? before.macs : d.macs480x640,
      max_abs_diff: maxAbsDiff,
      strategy,
      format,
      backend: backend.active,
      files,
    };
    const sum = compaction.summarizeChannels(analysis);
    const kept = sum.coupled.sets + sum.carriers.sets + sum.padded.sets;
    const macs = (n: number): string => `${(n / 1e6).toFixed(1)} M MACs`;
    print(!!flags.json, out, () =>
      [
        `${basename(modelPath)} → ${outDir} (${strategy}, ${backend.active})`,
        `parameters  ${before.parameters.toLocaleString('en-US')} → ${d.parameters.toLocaleString('en-US')}`,
        `MACs        ${before.macs.toLocaleString('en-US')} → ${d.macs480x640.toLocaleString('en-US')} at 480×640 (${(before.macs / d.macs480x640).toFixed(3)}×)`,
        `max |diff|  ${maxAbsDiff.toExponential(2)} over all head maps (ramp image${format === 'onnx' ? ', ONNX Runtime Web vs the studio' : ''})`,
        `channels    ${sum.removedSets} channel sets removed${d.biasMaps ? ` (${d.biasMaps} convs use a bias map)` : ''}; zero filters that still run:`,
        `            ${sum.coupled.sets} sets coupled to a non-zero filter (residual add / FPN sum): ${macs(sum.coupled.wastedMacs)}`,
        ...(sum.carriers.sets ? [`            ${sum.carriers.sets} sets kept as border carriers: ${macs(sum.carriers.wastedMacs)}`] : []),
        ...(sum.padded.sets ? [`            ${sum.padded.sets} sets whose constant feeds a zero-padded conv: ${macs(sum.padded.wastedMacs)}`] : []),
        ...(flags.report ? ['', ...compaction.formatChannelReport(analysis)] : kept ? ['(--report lists what stays and why)'] : []),
      ].join('\n'),
    );
  } finally {
    dense.dispose();
    model.dispose();
  }
}

/** Max |diff| of the heads, the ONNX file in ONNX Runtime Web (WASM) vs the studio's forward of the same network. */
async function onnxHeadDiff(onnxBytes: Uint8Array, studio: FaceModel, input: Float32Array): Promise<number> {
  const { createOrtEResFD } = await import('../../platform/onnx/ort-heads.ts');
  const session = await createOrtEResFD(onnxBytes);
  const out = tf.tidy(() => studio.predict(tf.tensor4d(input, [1, H, W, 3])));
  try {
    const [loc, conf] = [await out.loc.data(), await out.conf.data()];
    const ort = await session.run(input, H, W);
    let m = 0;
    for (const [a, b] of [[loc, ort.loc], [conf, ort.conf]] as const) for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  } finally {
    tf.dispose([out.loc, out.conf, ...(out.locLevels ?? []), ...(out.confLevels ?? [])]);
    await session.release();
  }
}
