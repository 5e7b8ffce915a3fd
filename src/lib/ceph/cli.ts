import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.ts';
import { HostCommandError, run } from '../host/run.ts';
import { CephBusyError, CephError, CephExistsError, CephNotFoundError, CephUnavailableError, lastLines } from './errors.ts';

export type CephTool = 'rbd' | 'rados' | 'ceph';

export interface CephCliOptions {
  /** The cluster's ceph.conf; it names each user's keyring. */
  conf: string;
  /** The cephx id (without `client.`). */
  user: string;
  /** The pool errors name when the command does not say which. */
  pool: string;
  log?: Logger;
  /** Seconds to reach the monitors before a command fails as unavailable (default 5). */
  connectTimeout?: number;
}

export interface CallOptions {
  /** The pool the command works on, for the message of an unavailable error. */
  pool?: string;
  input?: string | Buffer;
  timeoutMs?: number;
}

const errno = { EPERM: 1, ENOENT: 2, EIO: 5, EACCES: 13, EBUSY: 16, EEXIST: 17, ENOTEMPTY: 39, ESHUTDOWN: 108, ETIMEDOUT: 110, ECONNREFUSED: 111 };

/**
 * The rbd, rados and ceph commands of one cephx user. There is no maintained librados binding for
 * Node; these commands exit with the errno, which maps to the typed errors of ./errors.ts.
 */
export class CephCli {
  readonly conf: string;
  readonly user: string;
  readonly pool: string;
  private readonly log?: Logger;
  private readonly connectTimeout: number;

  constructor(opts: CephCliOptions) {
    this.conf = opts.conf;
    this.user = opts.user;
    this.pool = opts.pool;
    this.log = opts.log;
    this.connectTimeout = opts.connectTimeout ?? 5;
  }

  /** The argv of a command: the cluster, the user, and timeouts so that a cluster that is down
   * fails the command in seconds instead of hanging it (librados waits forever by default). */
  argv(tool: CephTool, args: string[]): string[] {
    const t = String(this.connectTimeout);
    const timeouts =
      tool === 'ceph'
        ? ['--connect-timeout', t]
        : ['--client_mount_timeout', t, '--rados_mon_op_timeout', String(this.connectTimeout * 2), '--rados_osd_op_timeout', String(this.connectTimeout * 6)];
    return [tool, '--conf', this.conf, '--id', this.user, ...timeouts, ...args];
  }

  /** Runs a command to its end and returns what it printed. */
  async run(tool: CephTool, args: string[], opts: CallOptions = {}): Promise<string> {
    const argv = this.argv(tool, args);
    try {
      const { stdout } = await run(argv, { log: this.log, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
      return stdout;
    } catch (err) {
      if (!(err instanceof HostCommandError)) throw err;
      throw this.error([tool, ...args], err.code, err.stderr, opts.pool);
    }
  }

  /** Runs a command with `--format json` and parses what it printed. */
  async json<T>(tool: CephTool, args: string[], opts: CallOptions = {}): Promise<T> {
    const out = await this.run(tool, [...args, '--format', 'json'], opts);
    return JSON.parse(out || 'null') as T;
  }

  /**
   * Starts a command that streams: its stdin and stdout are the caller's, and `done` settles when it
   * exits, with the typed error of its exit code. `kill()` ends it early (a reader that went away).
   */
  stream(tool: CephTool, args: string[], opts: { pool?: string } = {}): { stdin: Writable; stdout: Readable; done: Promise<void>; kill(): void } {
    const argv = this.argv(tool, args);
    this.log?.debug({ argv }, 'run');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4096)));
    // Writes after the command failed are answered by `done`; EPIPE would crash the process.
    child.stdin.on('error', () => {});
    let killed = false;
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new CephUnavailableError(opts.pool ?? this.pool, `${argv[0]} could not start: ${err.message}`)));
      child.on('close', (code) => (code === 0 || killed ? resolve() : reject(this.error([tool, ...args], code, stderr, opts.pool))));
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      done,
      kill: () => {
        killed = true;
        child.kill('SIGKILL');
      },
    };
  }

  /** The typed error of a failed command (argv: the tool and the caller's arguments). */
  error(argv: string[], code: number | null, stderr: string, pool = this.pool): Error {
    const said = lastLines(stderr);
    const missingPool = /error opening pool '?([^':\s]+)/.exec(stderr)?.[1];
    if (code === null || code === errno.ETIMEDOUT || code === errno.ESHUTDOWN || code === errno.ECONNREFUSED || /couldn't connect|connecting to the cluster|timed out/i.test(stderr))
      return new CephUnavailableError(pool, `the cluster did not answer (${this.conf}): ${said}`);
    if (missingPool) return new CephUnavailableError(missingPool, `the pool does not exist or user ${this.user} may not open it`);
    if (code === errno.EPERM || code === errno.EACCES) return new CephUnavailableError(pool, `user ${this.user} is not allowed: ${said}`);
    if (code === errno.ENOENT) return new CephNotFoundError(code, argv, stderr);
    if (code === errno.EBUSY || code === errno.ENOTEMPTY) return new CephBusyError(code, argv, stderr);
    if (code === errno.EEXIST) return new CephExistsError(code, argv, stderr);
    return new CephError(code, argv, stderr);
  }
}
