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
    /** Why there is no exit code, when there is none. */
    reason?: string,
  ) {
    super(`${argv[0]} failed (${reason ?? (code === null ? 'killed' : `exit ${code}`)}): ${stderr.trim().split('\n').slice(-3).join(' ') || '(no output)'}`);
  }
}

/** Runs a host command from an argv, never through a shell; a missing binary says so. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
  opts.log?.debug({ argv: full }, 'run');
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // SIGKILL: a command that hangs may well ignore SIGTERM too.
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new HostCommandError(full, null, err.code === 'ENOENT' ? `${full[0]} is not installed or not on PATH` : err.message, 'not started'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== null && (opts.okCodes ?? [0]).includes(code)) resolve({ stdout, stderr, code });
      else reject(new HostCommandError(full, code, stderr, timedOut ? `timed out after ${opts.timeoutMs} ms` : undefined));
    });
    // A command that exits without reading its input fails by its exit code; EPIPE would crash the process.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}
