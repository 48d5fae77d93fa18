/** The CLI as a user runs it: a spawned `tsx src/cli/main.ts`, with its output and exit status. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function runCli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(TSX, ['src/cli/main.ts', ...args], { cwd: process.cwd(), maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
