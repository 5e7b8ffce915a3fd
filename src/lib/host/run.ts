import { spawn } from 'node:child_process';
import type { Logger } from '../log.ts';

export interface RunOptions {
  log?: Logger;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Runs the command inside this network namespace. */
  netns?: string;
  /** Exit codes that are not failures (default: 0 only). */
  okCodes?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** A host command that failed: its argv, exit code and what it said on stderr. */
export class HostCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv[0]} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ') || '(no output)'}`);
  }
}

/** Runs a host command from an argv, never through a shell; a missing binary says so. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
  opts.log?.debug({ argv: full }, 'run');
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new HostCommandError(full, null, `${full[0]} is not installed or not on PATH`) : err),
    );
    child.on('close', (code) => {
      if (code !== null && (opts.okCodes ?? [0]).includes(code)) resolve({ stdout, stderr, code });
      else reject(new HostCommandError(full, code, stderr));
    });
    child.stdin.end(opts.input);
  });
}
