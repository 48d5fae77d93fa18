/**
 * Every CLI failure ends as `error [CODE]: message` + hint, exit 1 (2 for usage), never a stack:
 * crafted inputs per class (bad flags, fs errors, damaged run records, a busy run), a non-StudioError
 * injected through each verb after its real work (the WASM backend's own `uncaughtException` re-throw
 * is loaded by then), and source-level guarantees that no other code in src/cli prints errors or exits.
 */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const FAULT = join(process.cwd(), 'tests', 'helpers', 'cli-fault.mjs');

interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(TSX, ['src/cli/main.ts', ...args], { cwd: process.cwd(), maxBuffer: 64 << 20, env: { ...process.env, BFPGM_DEBUG: '', ...env } }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code) : 0 });
    });
  });
}

/** The shape every failure must have: one error line with the code, the hint, no stack, no minified source. */
function expectCleanFailure(o: Outcome, code: string, exit: number, message?: RegExp): void {
  const lines = o.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('error ['));
  expect(at, o.stderr.slice(0, 2000)).toBeGreaterThanOrEqual(0);
  expect(lines[at]).toMatch(new RegExp(`^error \\[${code}\\]: `));
  if (message) expect(lines[at]).toMatch(message);
  expect(lines[at + 1]).toMatch(/^ {2}\S/); // the hint
  expect(o.stderr).not.toMatch(/^\s+at /m);
  expect(o.stderr.length).toBeLessThan(2000);
  expect(o.code).toBe(exit);
}

const MODEL = () => sharedPath('models/EResFD-original.pth');
const WIDER = () => sharedPath('widerface');
const RATES = '0.1,0.1,0.1,0.1,0.1,0.1';

function firstValImage(): string {
  const root = join(WIDER(), 'WIDER_val', 'images');
  const event = readdirSync(root).sort()[0]!;
  return join(root, event, readdirSync(join(root, event)).sort()[0]!);
}

/** A WIDER folder (official layout, links into ../shared) whose only val image is a dangling link. */
function widerWithDanglingImage(dir: string): string {
  const root = join(dir, 'wider-dangling');
  mkdirSync(join(root, 'WIDER_val', 'images', '0--Parade'), { recursive: true });
  for (const name of ['wider_face_split', 'eval_tools']) symlinkSync(join(WIDER(), name), join(root, name));
  const real = readdirSync(join(WIDER(), 'WIDER_val', 'images', '0--Parade')).sort()[0]!;
  symlinkSync(join(dir, 'deleted.jpg'), join(root, 'WIDER_val', 'images', '0--Parade', real));
  return root;
}

/** Tiny prune flags (one BO probe at 64 px, no SFP/fine-tune epochs, no AP) in `runDir`. */
function tinyPrune(runDir: string, extra: string[] = []): string[] {
  mkdirSync(runDir, { recursive: true });
  return [
    'prune', '--model', MODEL(), '--widerface', WIDER(), '--target', '0.3', '--bo-init', '0', '--bo-iter', '0', '--images', '4', '--size', '64',
    '--batch', '2', '--sfp-epochs', '0', '--finetune-epochs', '0', '--eval-images', '0', '--run-dir', runDir, '--run-id', 'r', '--out', join(runDir, 'out.pth'), ...extra,
  ];
}

describe.skipIf(!HAS_SHARED)('cli failures: crafted inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-cli-fail-'));
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'not a folder');

  interface Case {
    name: string;
    args: () => string[];
    code: string;
    exit: 1 | 2;
    message: RegExp;
  }
  const CASES: Case[] = [
    { name: 'unknown verb', args: () => ['frobnicate'], code: 'USAGE', exit: 2, message: /unknown verb 'frobnicate'/ },
    { name: 'unknown flag', args: () => ['info', '--model', MODEL(), '--modle', 'x'], code: 'USAGE', exit: 2, message: /--modle/ },
    { name: 'missing required flag', args: () => ['detect', '--image', 'x.jpg'], code: 'USAGE', exit: 2, message: /--model is required/ },
    { name: 'a prototype key as a grouping', args: () => ['info', '--model', MODEL(), '--groups', '__proto__'], code: 'USAGE', exit: 2, message: /--groups must be one of code, released, coarse, fine, got "__proto__"/ },
    { name: 'constructor as a grouping', args: () => ['fpgm', '--model', MODEL(), '--rates', RATES, '--groups', 'constructor'], code: 'USAGE', exit: 2, message: /--groups/ },
    { name: 'a non-numeric --limit', args: () => ['eval', '--model', MODEL(), '--widerface', WIDER(), '--limit', 'abc'], code: 'USAGE', exit: 2, message: /--limit must be a whole number, got "abc"/ },
    { name: 'a fractional --epochs', args: () => ['train', '--model', MODEL(), '--widerface', WIDER(), '--epochs', '1.5', '--out', join(dir, 't.pth')], code: 'USAGE', exit: 2, message: /--epochs must be a whole number/ },
    { name: 'a --threshold out of range', args: () => ['detect', '--model', MODEL(), '--image', 'x.jpg', '--threshold', '1.5'], code: 'USAGE', exit: 2, message: /--threshold must be in \[0, 1\]/ },
    { name: 'a --target that is not a number', args: () => ['prune', '--model', MODEL(), '--widerface', WIDER(), '--target', '30%', '--out', join(dir, 'p.pth')], code: 'USAGE', exit: 2, message: /--target must be a number/ },
    { name: 'a --run-id with a path in it', args: () => ['prune', '--model', MODEL(), '--widerface', WIDER(), '--target', '0.3', '--run-id', '../x', '--out', join(dir, 'p.pth')], code: 'USAGE', exit: 2, message: /--run-id/ },
    { name: 'an unknown --strategy', args: () => ['compact', '--model', MODEL(), '--out', dir, '--strategy', 'toString'], code: 'USAGE', exit: 2, message: /--strategy must be one of/ },
    { name: '--out in a missing folder', args: () => ['fpgm', '--model', MODEL(), '--rates', RATES, '--out', join(dir, 'missing', 'y.pth')], code: 'FILE_IO', exit: 1, message: /--out .*missing\/y\.pth: the folder .*missing does not exist/ },
    { name: '--out on a folder', args: () => ['train', '--model', MODEL(), '--widerface', WIDER(), '--out', dir], code: 'FILE_IO', exit: 1, message: /is a folder; name a file/ },
    { name: '--out under a file', args: () => ['prune', '--model', MODEL(), '--widerface', WIDER(), '--target', '0.3', '--out', join(aFile, 'p.pth')], code: 'FILE_IO', exit: 1, message: /a-file is a file/ },
    { name: 'compact --out under a file', args: () => ['compact', '--model', MODEL(), '--out', join(aFile, 'c')], code: 'FILE_IO', exit: 1, message: /cannot create the folder/ },
    { name: 'eval --save under a file', args: () => ['eval', '--model', MODEL(), '--widerface', WIDER(), '--save', join(aFile, 'preds')], code: 'FILE_IO', exit: 1, message: /--save .*cannot create the folder/ },
    { name: 'a missing --predictions folder', args: () => ['eval', '--predictions', join(dir, 'no-such-preds'), '--widerface', WIDER()], code: 'FILE_IO', exit: 1, message: /no-such-preds: no such file or directory \(ENOENT\)/ },
    { name: 'a missing image', args: () => ['detect', '--model', MODEL(), '--image', join(dir, 'nope.jpg')], code: 'FILE_IO', exit: 1, message: /nope\.jpg: no such file or directory/ },
    { name: 'an image that is a folder', args: () => ['detect', '--model', MODEL(), '--image', dir], code: 'FILE_IO', exit: 1, message: /EISDIR/ },
    { name: 'a dangling val image link', args: () => ['eval', '--model', MODEL(), '--widerface', widerWithDanglingImage(dir)], code: 'FILE_IO', exit: 1, message: /deleted\.jpg|0--Parade.*no such file/ },
  ];

  for (const c of CASES) {
    it(`${c.name} → error [${c.code}], exit ${c.exit}`, async () => {
      expectCleanFailure(await cli(c.args()), c.code, c.exit, c.message);
    }, 120_000);
  }

  it('a corrupt or foreign state.json is RUN_STATE, and the run is left as it was', async () => {
    const runDir = join(dir, 'runs-corrupt');
    mkdirSync(join(runDir, 'r'), { recursive: true });
    const statePath = join(runDir, 'r', 'state.json');
    writeFileSync(statePath, '{"format": "bfpgm-run", "version": 1, "id": "r", "sta');
    expectCleanFailure(await cli(tinyPrune(runDir)), 'RUN_STATE', 1, /state\.json is not valid JSON/);
    writeFileSync(statePath, JSON.stringify({ format: 'bfpgm-run', version: 99, id: 'r' }));
    expectCleanFailure(await cli(tinyPrune(runDir)), 'RUN_STATE', 1, /has version 99; this studio reads version 1/);
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toEqual({ format: 'bfpgm-run', version: 99, id: 'r' });
    expect(existsSync(join(runDir, 'out.pth'))).toBe(false);
  }, 240_000);

  it('a finished run resumed with other flags is refused, naming them; its deleted weights are an error, not the unpruned model', async () => {
    const runDir = join(dir, 'runs-done');
    const first = await cli([...tinyPrune(runDir), '--json']);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(first.stdout).target).toBe(30);

    const changed = await cli(tinyPrune(runDir, ['--target', '0.5', '--target-kind', 'macs']));
    expectCleanFailure(changed, 'RUN_CONFIG_MISMATCH', 1, /run r was started \(done, stage done\) with other settings: --target 0\.3 \(now 0\.5\), --target-kind "parameters" \(now "macs"\)/);
    expect(changed.stdout).toBe('');

    // With the run's weights deleted, the same flags fail instead of writing another model to --out.
    for (const f of readdirSync(join(runDir, 'r')).filter((n) => n.endsWith('.pth'))) unlinkSync(join(runDir, 'r', f));
    const out = join(runDir, 'out.pth');
    writeFileSync(out, 'previous');
    expectCleanFailure(await cli(tinyPrune(runDir)), 'RUN_WEIGHTS_MISSING', 1, /run r: its final weights are missing/);
    expect(readFileSync(out, 'utf8')).toBe('previous');
  }, 600_000);

  it('a second process on the same run id is refused while the first runs; a killed owner\'s lock is taken over', async () => {
    const runDir = join(dir, 'runs-busy');
    // tsx runs the script in a child node process: the lock's owner is that process, which prints its pid.
    const script = `import { acquireRunLock } from './src/platform/node/run-lock.ts'; acquireRunLock(${JSON.stringify(runDir)}, 'r').then(() => { console.log('locked ' + process.pid); setInterval(() => {}, 1000); });`;
    const holder = spawn(TSX, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    let ownerPid = 0;
    try {
      ownerPid = await new Promise<number>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => {
          const m = /locked (\d+)/.exec(d.toString());
          if (m) resolve(Number(m[1]));
        });
        holder.on('exit', (code) => reject(new Error(`lock holder exited (${code})`)));
      });
      const second = await cli(tinyPrune(runDir));
      expectCleanFailure(second, 'RUN_BUSY', 1, new RegExp(`run r in .* is being run by process ${ownerPid} `));
    } finally {
      if (ownerPid) process.kill(ownerPid, 'SIGKILL');
      holder.kill('SIGKILL');
    }
    // The killed owner left its lock file; its pid is gone, so the next run takes it over and finishes.
    for (let i = 0; i < 50 && isAlive(ownerPid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(runDir, 'r', 'run.lock'))).toBe(true);
    const third = await cli([...tinyPrune(runDir), '--json']);
    expect(third.code, third.stderr.slice(-2000)).toBe(0);
    expect(existsSync(join(runDir, 'r', 'run.lock'))).toBe(false);
  }, 600_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!HAS_SHARED)('cli failures: a non-StudioError through every verb', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-cli-fault-'));
  // Each verb does its real work; its final write to stdout then fails (tests/helpers/cli-fault.mjs).
  const VERBS: Record<string, () => string[]> = {
    info: () => ['info', '--model', MODEL()],
    fpgm: () => ['fpgm', '--model', MODEL(), '--rates', RATES],
    detect: () => ['detect', '--model', MODEL(), '--image', firstValImage()],
    compact: () => ['compact', '--model', MODEL(), '--out', join(dir, 'compact')],
    eval: () => ['eval', '--model', MODEL(), '--widerface', WIDER(), '--limit', '1'],
    train: () => ['train', '--model', MODEL(), '--widerface', WIDER(), '--epochs', '1', '--images', '2', '--size', '64', '--batch', '2', '--val-images', '1', '--out', join(dir, 't.pth')],
    prune: () => tinyPrune(join(dir, 'runs')),
  };
  const faulty = (mode: string) => ({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${FAULT}`.trim(), BFPGM_TEST_FAULT: mode });

  for (const [verb, args] of Object.entries(VERBS)) {
    it(`${verb}: a thrown Error becomes error [INTERNAL], exit 1, no stack`, async () => {
      expectCleanFailure(await cli(args(), faulty('throw')), 'INTERNAL', 1, /injected fault: stdout is gone/);
    }, 300_000);
  }

  const MODES: Array<[string, RegExp]> = [
    ['uncaught', /TypeError: injected fault outside the promise chain/],
    ['rejection', /RangeError: injected unhandled rejection/],
    ['value', /a non-error value was thrown: \{"injected":"a thrown object, not an Error"\}/],
  ];
  for (const [mode, message] of MODES) {
    it(`detect (WASM backend running): ${mode} → error [INTERNAL], exit 1, no stack`, async () => {
      expectCleanFailure(await cli(VERBS.detect!(), faulty(mode)), 'INTERNAL', 1, message);
    }, 120_000);
  }

  it('--debug and BFPGM_DEBUG=1 add the stack', async () => {
    for (const o of [await cli([...VERBS.info!(), '--debug'], faulty('throw')), await cli(VERBS.info!(), { ...faulty('throw'), BFPGM_DEBUG: '1' })]) {
      expect(o.stderr).toMatch(/^error \[INTERNAL\]: injected fault/m);
      expect(o.stderr).toMatch(/^\s+at /m);
      expect(o.code).toBe(1);
    }
  }, 120_000);
});

describe('cli failures: one handler', () => {
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  const sources = files(join(process.cwd(), 'src', 'cli')).filter((f) => f.endsWith('.ts')).map((f) => ({ f: f.slice(process.cwd().length + 1), text: readFileSync(f, 'utf8') }));

  it('only src/cli/main.ts ends the process or sets its status, and installs process-level error listeners', () => {
    const offenders = (re: RegExp) => sources.filter((s) => re.test(s.text)).map((s) => s.f);
    expect(offenders(/process\.exit\b|process\.exitCode|process\.(on|once|prependListener)\(\s*'(uncaughtException|unhandledRejection)'/)).toEqual(['src/cli/main.ts']);
    expect(offenders(/console\.error|process\.abort/)).toEqual([]);
    // Failures are thrown as StudioErrors (with a code), never as bare Errors the user would see as INTERNAL.
    expect(offenders(/throw new (Error|TypeError|RangeError)\(/)).toEqual([]);
  });

  it('main.ts routes every failure through the one mapping', () => {
    const main = sources.find((s) => s.f === 'src/cli/main.ts')!.text;
    expect(main).toMatch(/process\.prependListener\('uncaughtException', failOutsideChain\)/);
    expect(main).toMatch(/process\.prependListener\('unhandledRejection', failOutsideChain\)/);
    // Every catch in main reports through toCliFailure; none re-throws.
    expect(main.match(/catch \(e\) \{\s*return report\(e\);\s*\}/g)).toHaveLength(1);
    expect(main).not.toMatch(/\bthrow e\b/);
  });
});
