/**
 * `detect --model X.pth --image Y.jpg [--protocol single] [--threshold t] [--json]`: single-pass
 * WIDER protocol (SPEC §6.2), boxes [x1, y1, x2, y2, score] in original pixels, by score.
 */
import { createEResFD, detectFaces, StudioError } from '../../core/index.ts';
import { readImageFile } from '../../platform/node/image-decoder.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { loadStateDict, parseFlags, print, requireFlag } from './common.ts';

export async function detect(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    model: { type: 'string' },
    image: { type: 'string' },
    protocol: { type: 'string', default: 'single' },
    threshold: { type: 'number', min: 0, max: 1 },
  });
  if (flags.protocol !== 'single') throw new StudioError('USAGE', `--protocol ${flags.protocol}: detect supports 'single' (use eval for 'full')`);
  const threshold = flags.threshold;
  const imagePath = requireFlag(flags, 'image');
  const [sd, image] = await Promise.all([loadStateDict(requireFlag(flags, 'model')), readImageFile(imagePath)]);
  const backend = await selectNodeBackend(flags.backend);
  const model = createEResFD(sd);
  try {
    const res = await detectFaces(model, image, { scoreThreshold: threshold });
    const out = {
      image: imagePath,
      width: res.width,
      height: res.height,
      shrink: res.shrink,
      backend: backend.active,
      detections: res.detections.map((d) => d.map((v) => Number(v.toFixed(4)))),
    };
    print(!!flags.json, out, () =>
      [
        `${imagePath}: ${res.width}×${res.height}, shrink ${res.shrink.toFixed(4)}, ${res.detections.length} detections (${backend.active}, forward ${res.forwardMs.toFixed(1)} ms)`,
        ...res.detections.slice(0, 50).map((d) => `  ${d.slice(0, 4).map((v) => v.toFixed(1).padStart(7)).join(' ')}  ${d[4].toFixed(4)}`),
        res.detections.length > 50 ? `  … ${res.detections.length - 50} more (use --json or --threshold)` : '',
      ].filter(Boolean).join('\n'),
    );
  } finally {
    model.dispose();
  }
}
