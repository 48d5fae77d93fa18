/**
 * `eval --model X.pth --widerface DIR [--protocol single|full] [--json] [--save DIR]` runs the model on
 * the val images present in DIR and scores them with the official protocol restricted to those images
 * (SPEC §9); `eval --predictions DIR --widerface DIR` scores a folder of official-format txt files.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createEResFD,
  evaluateWider,
  parsePredictionTxt,
  predictWider,
  widerImageKey,
  type WiderPrediction,
  type WiderPredictions,
  type WiderProtocol,
} from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../platform/node/wider-folder.ts';
import { loadStateDict, parseFlags, prepareOutputFolder, print, requireFlag } from './common.ts';

async function readPredictionFolder(dir: string): Promise<WiderPredictions> {
  const out: Record<string, Record<string, WiderPrediction[]>> = {};
  for (const event of await readdir(dir)) {
    const files = await readdir(join(dir, event)).catch(() => [] as string[]);
    for (const f of files.filter((n) => n.endsWith('.txt'))) {
      const txt = parsePredictionTxt(await readFile(join(dir, event, f), 'utf8'), `${event}/${f}`);
      (out[event] ??= {})[f.slice(0, -4)] = txt.boxes;
    }
  }
  return out;
}

export async function evalCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' },
    widerface: { type: 'string' },
    protocol: { type: 'string', default: 'single', choices: ['single', 'full'] },
    predictions: { type: 'string' },
    save: { type: 'string' },
    limit: { type: 'int', min: 1 },
  });
  const dir = requireFlag(flags, 'widerface');
  const protocol = flags.protocol as WiderProtocol;
  const save = flags.save;
  if (save !== undefined) await prepareOutputFolder('save', save);
  const gt = await readValGroundTruth(dir);
  let present = await presentValImages(dir, gt);
  if (flags.limit !== undefined) present = present.slice(0, flags.limit);
  const t0 = performance.now();
  let predictions: WiderPredictions;
  let backend: string | undefined;
  if (flags.predictions !== undefined) {
    predictions = await readPredictionFolder(flags.predictions);
  } else {
    const sd = await loadStateDict(requireFlag(flags, 'model'));
    backend = (await selectNodeBackend(flags.backend)).active;
    const model = createEResFD(sd);
    try {
      predictions = await predictWider(model, present, loadValImage(dir), {
        protocol,
        onProgress: (p) => {
          if (p.done % 10 === 0 || p.done === p.total) {
            const rate = p.done / ((performance.now() - t0) / 1000);
            process.stderr.write(`\r${p.done}/${p.total} images, ${rate.toFixed(2)} img/s, ETA ${((p.total - p.done) / rate).toFixed(0)} s   `);
          }
        },
        onTxt: save !== undefined
          ? async (ref, txt) => {
              await mkdir(join(save, ref.event), { recursive: true });
              await writeFile(join(save, ref.event, `${ref.name}.txt`), txt);
            }
          : undefined,
      });
      process.stderr.write('\n');
    } finally {
      model.dispose();
    }
  }
  const result = evaluateWider(gt, predictions, { restrictTo: present.map((r) => widerImageKey(r.event, r.name)) });
  const seconds = (performance.now() - t0) / 1000;
  const out = { easy: result.easy, medium: result.medium, hard: result.hard, images: result.images, protocol: flags.predictions ? 'predictions' : protocol, backend, seconds: Number(seconds.toFixed(2)) };
  print(!!flags.json, out, () =>
    [
      `WIDER FACE val, ${result.images} images (${result.faces.easy}/${result.faces.medium}/${result.faces.hard} counted faces), ${out.protocol}${backend ? ` on ${backend}` : ''}, ${seconds.toFixed(1)} s`,
      `  AP easy   ${result.easy.toFixed(4)}`,
      `  AP medium ${result.medium.toFixed(4)}`,
      `  AP hard   ${result.hard.toFixed(4)}`,
    ].join('\n'),
  );
}
