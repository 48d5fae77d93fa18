/**
 * The studio's command line: the same core the browser worker runs, over Node ports.
 * Usage: npm run cli -- <verb> [flags]; every verb takes --json and --backend wasm|cpu.
 */
import { isStudioError } from '../core/index.ts';
import { info } from './commands/info.ts';
import { detect } from './commands/detect.ts';
import { evalCommand } from './commands/eval.ts';
import { trainCommand } from './commands/train.ts';
import { pruneCommand } from './commands/prune.ts';
import { fpgm } from './commands/fpgm.ts';
import { compact } from './commands/compact.ts';

type Verb = (argv: string[]) => Promise<void>;

const VERBS: Record<string, { run: Verb; help: string }> = {
  info: { run: info, help: 'info --model X.pth [--groups code|released|coarse|fine] [--json]' },
  fpgm: { run: fpgm, help: 'fpgm --model X.pth --rates r1,…,r6 [--groups code|released|coarse|fine] [--out Y.pth] [--json]' },
  detect: { run: detect, help: 'detect --model X.pth --image Y.jpg [--protocol single] [--threshold t] [--json]' },
  train: { run: trainCommand, help: 'train --model X.pth --widerface DIR --epochs N --images K --size S --out Y.pth [--batch B] [--lr r] [--weight-decay w] [--val-images V] [--seed s] [--json]' },
  prune: { run: pruneCommand, help: 'prune --model X.pth --widerface DIR --target T [--target-kind parameters|macs] [--groups code|released|coarse|fine] [--bo-init N] [--bo-iter M] [--images K] [--size S] [--batch B] [--sfp-epochs E] [--sfp-every k] [--finetune-epochs F] [--finetune-mode reference|masked] [--eval-images V] [--protocol single|full] [--seed s] [--run-dir D] [--run-id ID] [--recipe laptop|paper] [--trial-score epoch|adaptive-bn] [--bn-images N] [--distill W] [--recalibrate N] [--sfp-lr r] [--sfp-ramp E] [--finetune-lr r] [--finetune-step E] --out Y.pth [--json]' },
  eval: { run: evalCommand, help: 'eval (--model X.pth | --predictions DIR) --widerface DIR [--protocol single|full] [--save DIR] [--limit N] [--json]' },
  compact: { run: compact, help: 'compact --model X.pth --out DIR [--strategy carrier|bias-map|keep] [--report] [--json]' },
};

function usage(): string {
  return ['Usage: npm run cli -- <verb> [flags]', '', ...Object.values(VERBS).map((v) => `  ${v.help}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(`${usage()}\n`);
    return verb ? 0 : 2;
  }
  const entry = VERBS[verb];
  if (!entry) {
    process.stderr.write(`unknown verb '${verb}'\n${usage()}\n`);
    return 2;
  }
  try {
    await entry.run(rest);
    return 0;
  } catch (e) {
    if (isStudioError(e)) {
      process.stderr.write(`error [${e.code}]: ${e.message}\n  ${e.hint}\n`);
      return 1;
    }
    if (e instanceof TypeError && /Unknown option|ERR_PARSE_ARGS/.test(String((e as { code?: string }).code ?? e.message))) {
      process.stderr.write(`${e.message}\n${usage()}\n`);
      return 2;
    }
    throw e;
  }
}

// Silence TF.js's "install tfjs-node" banner: it cannot install here and WASM is the fast path.
const warn = console.warn;
console.warn = (...a: unknown[]) => {
  if (typeof a[0] === 'string' && a[0].includes('tfjs-node')) return;
  warn(...a);
};
const log = console.log;
console.log = (...a: unknown[]) => {
  if (typeof a[0] === 'string' && (a[0].includes('tfjs-node') || a[0].startsWith('====='))) return;
  log(...a);
};

process.exitCode = await main(process.argv.slice(2));
