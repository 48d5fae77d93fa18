/**
 * The studio's command line: the same core the browser worker runs, over Node ports.
 * Usage: npm run cli -- <verb> [flags]; every verb takes --json and --backend wasm|cpu.
 * Failures: `error [CODE]: message` + hint on stderr, exit 1 (2 for usage); see failure.ts.
 */
import { StudioError } from '../core/index.ts';
import { formatCliFailure, toCliFailure } from './failure.ts';
import { info } from './commands/info.ts';
import { detect } from './commands/detect.ts';
import { evalCommand } from './commands/eval.ts';
import { trainCommand } from './commands/train.ts';
import { pruneCommand } from './commands/prune.ts';
import { fpgm } from './commands/fpgm.ts';
import { compact } from './commands/compact.ts';
import { workerCommand } from './commands/worker.ts';

type Verb = (argv: string[]) => Promise<void>;

const VERBS: Record<string, { run: Verb; help: string }> = {
  info: { run: info, help: 'info --model X.pth [--groups code|released|coarse|fine] [--json]' },
  fpgm: { run: fpgm, help: 'fpgm --model X.pth --rates r1,…,r6 [--groups code|released|coarse|fine] [--out Y.pth] [--json]' },
  detect: { run: detect, help: 'detect --model X.pth --image Y.jpg [--protocol single] [--threshold t] [--json]' },
  train: { run: trainCommand, help: 'train --model X.pth --widerface DIR --epochs N --images K --size S --out Y.pth [--batch B] [--lr r] [--weight-decay w] [--val-images V] [--seed s] [--prep-workers N] [--json]' },
  prune: { run: pruneCommand, help: 'prune --model X.pth --widerface DIR --target T [--target-kind parameters|macs] [--groups code|released|coarse|fine] [--bo-init N] [--bo-iter M] [--images K] [--size S] [--batch B] [--sfp-epochs E] [--sfp-every k] [--finetune-epochs F] [--finetune-mode reference|masked] [--eval-images V] [--protocol single|full] [--seed s] [--run-dir D] [--run-id ID] [--recipe laptop|paper] [--trial-score epoch|adaptive-bn] [--bn-images N] [--distill W] [--recalibrate N] [--sfp-lr r] [--sfp-ramp E] [--finetune-lr r] [--finetune-step E] [--bo-batch q] [--bo-strategy constant-liar|kriging-believer] [--queue redis://HOST:PORT] [--targets t1,t2,…] [--prep-workers N] --out Y.pth [--json]' },
  worker: { run: workerCommand, help: 'worker --queue redis://HOST:PORT --widerface DIR [--lock-ms N] [--max-trials N] [--json]' },
  eval: { run: evalCommand, help: 'eval (--model X.pth | --predictions DIR) --widerface DIR [--protocol single|full] [--save DIR] [--limit N] [--json]' },
  compact: { run: compact, help: 'compact --model X.pth --out DIR [--strategy carrier|bias-map|keep] [--format tfjs|onnx] [--dense] [--report] [--json]' },
};

function usage(): string {
  return [
    'Usage: npm run cli -- <verb> [flags] [--debug]',
    '',
    ...Object.values(VERBS).map((v) => `  ${v.help}`),
    '',
    '  --prep-workers N (train, prune): worker threads that prepare training batches (decode, augmentation) while',
    '    the step runs; default cores − 1 (at least 1), 0 = on the training thread. The batches are the same either way.',
  ].join('\n');
}

// --debug (or BFPGM_DEBUG=1) adds the stack to an error; without it a failure is one line and a hint.
const DEBUG = process.argv.includes('--debug') || /^(1|true|yes)$/i.test(process.env.BFPGM_DEBUG ?? '');

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(`${usage()}\n`);
    return verb ? 0 : 2;
  }
  try {
    if (!Object.hasOwn(VERBS, verb)) throw new StudioError('USAGE', `unknown verb '${verb}' (verbs: ${Object.keys(VERBS).join(', ')})`);
    await VERBS[verb]!.run(rest);
    return 0;
  } catch (e) {
    return report(e);
  }
}

/** The one place a failure is printed: any thrown value → `error [CODE]: message` + hint; returns the exit status. */
function report(e: unknown): number {
  const failure = toCliFailure(e);
  process.stderr.write(formatCliFailure(failure, DEBUG));
  return failure.exitCode;
}

/**
 * Errors outside the verb's promise chain (a throw in a timer or stream callback, an unawaited
 * rejection). TF.js's WASM backend (Emscripten glue) adds `uncaughtException`/`unhandledRejection`
 * listeners that re-throw, which makes Node print a line of ~39 KB of minified source and exit 7;
 * these listeners are put first, so they report the error our way and end the process before it.
 */
let ending = false;
const failOutsideChain = (e: unknown): void => {
  if (ending) return;
  ending = true;
  process.exit(report(e));
};
process.prependListener('uncaughtException', failOutsideChain);
process.prependListener('unhandledRejection', failOutsideChain);

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

process.exitCode = await main(process.argv.slice(2).filter((a) => a !== '--debug'));
