/**
 * `compact --model X.pth --out DIR [--strategy carrier|bias-map|keep] [--report] [--json]`: physically removes
 * B-FPGM's zeroed filters (src/core/compact), writes DIR/model.json + DIR/group1-shard1of1.bin
 * (TF.js-style layout, our own topology: load with loadCompacted), and checks the result against the
 * dense model on a fixed 480×640 ramp image.
 */
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  BORDER_STRATEGIES,
  DEFAULT_BORDER_STRATEGY,
  COMPACT_MODEL_FILE,
  COMPACT_WEIGHTS_FILE,
  compactEResFD,
  createEResFD,
  describeModel,
  formatChannelReport,
  summarizeChannels,
  serializeCompacted,
  totalMacs,
  maxHeadDiff,
  rampInput,
  type BorderStrategy,
} from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { loadStateDict, parseFlags, prepareOutputFolder, print, requireFlag } from './common.ts';

const H = 480, W = 640;

export async function compact(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' },
    out: { type: 'string' },
    strategy: { type: 'string', default: DEFAULT_BORDER_STRATEGY, choices: BORDER_STRATEGIES },
    report: { type: 'boolean' },
  });
  const strategy = flags.strategy as BorderStrategy;
  const modelPath = requireFlag(flags, 'model');
  const outDir = requireFlag(flags, 'out');
  await prepareOutputFolder('out', outDir);
  const sd = await loadStateDict(modelPath);
  const backend = await selectNodeBackend(flags.backend);
  const dense = createEResFD(sd);
  const { model, analysis } = compactEResFD(sd, { strategy, source: basename(modelPath) });
  try {
    const maxAbsDiff = await maxHeadDiff(dense, model, rampInput(H, W), H, W);
    const { manifest, weights } = serializeCompacted(model);
    const files = [join(outDir, COMPACT_MODEL_FILE), join(outDir, COMPACT_WEIGHTS_FILE)];
    await writeFile(files[0]!, `${JSON.stringify(manifest)}\n`);
    await writeFile(files[1]!, weights);

    const d = model.describe();
    const before = { parameters: describeModel(sd).parameters, macs: totalMacs(H, W) };
    const out = {
      parameters_before: before.parameters,
      parameters_after: d.parameters,
      macs_before: before.macs,
      macs_after: d.macs480x640,
      max_abs_diff: maxAbsDiff,
      strategy,
      backend: backend.active,
      files,
    };
    const sum = summarizeChannels(analysis);
    const kept = sum.coupled.sets + sum.carriers.sets + sum.padded.sets;
    const macs = (n: number): string => `${(n / 1e6).toFixed(1)} M MACs`;
    print(!!flags.json, out, () =>
      [
        `${basename(modelPath)} → ${outDir} (${strategy}, ${backend.active})`,
        `parameters  ${before.parameters.toLocaleString('en-US')} → ${d.parameters.toLocaleString('en-US')}`,
        `MACs        ${before.macs.toLocaleString('en-US')} → ${d.macs480x640.toLocaleString('en-US')} at 480×640 (${(before.macs / d.macs480x640).toFixed(3)}×)`,
        `max |diff|  ${maxAbsDiff.toExponential(2)} over all head maps (ramp image)`,
        `channels    ${sum.removedSets} channel sets removed${d.biasMaps ? ` (${d.biasMaps} convs use a bias map)` : ''}; zero filters that still run:`,
        `            ${sum.coupled.sets} sets coupled to a non-zero filter (residual add / FPN sum): ${macs(sum.coupled.wastedMacs)}`,
        ...(sum.carriers.sets ? [`            ${sum.carriers.sets} sets kept as border carriers: ${macs(sum.carriers.wastedMacs)}`] : []),
        ...(sum.padded.sets ? [`            ${sum.padded.sets} sets whose constant feeds a zero-padded conv: ${macs(sum.padded.wastedMacs)}`] : []),
        ...(flags.report ? ['', ...formatChannelReport(analysis)] : kept ? ['(--report lists what stays and why)'] : []),
      ].join('\n'),
    );
  } finally {
    dense.dispose();
    model.dispose();
  }
}
