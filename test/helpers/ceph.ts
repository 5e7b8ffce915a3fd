import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const scripts = join(import.meta.dirname, '..', '..', 'scripts', 'ceph');

export interface TestCeph {
  dir: string;
  /** DIR/ceph.conf */
  conf: string;
  /** The NUBO_* variables of DIR/nubo.env: give them to a spawned nubo to store on this cluster. */
  env: Record<string, string>;
  /** Runs rbd as a user (default the admin) and returns stdout; `--format json` parses it. */
  rbd(args: string[], user?: string): Promise<string>;
  rbdJson<T = unknown>(args: string[], user?: string): Promise<T>;
  /** The python ceph CLI as the admin (about a second a call). */
  ceph(args: string[]): Promise<string>;
  /** Stops the daemons and keeps the directory, for start() to bring the same cluster back. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops the daemons and removes the directory. */
  stop(): Promise<void>;
  /** Starts radosgw (scripts/ceph/radosgw.sh) trusting the Keystone at `keystoneUrl`; returns the
   * NUBO_* variables of DIR/radosgw.env, for the nubo that serves that Keystone. */
  radosgw(keystoneUrl: string): Promise<Record<string, string>>;
}

/** The NUBO_* variables of an env file the scripts write. */
const envFile = (path: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => /^NUBO_\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

/**
 * A single-node Ceph of its own for a test file (scripts/ceph/up.sh in a temporary directory, on a
 * free port): about 20 s to start and 400 MB while it runs. Call stop() in an after() hook.
 */
export async function startCeph(): Promise<TestCeph> {
  const dir = mkdtempSync(join(tmpdir(), 'nubo-ceph-'));
  const up = () => exec(join(scripts, 'up.sh'), [dir], { timeout: 120_000 });
  try {
    await up();
  } catch (err) {
    await exec(join(scripts, 'down.sh'), [dir]).catch(() => undefined);
    throw err;
  }
  const conf = join(dir, 'ceph.conf');
  const env = envFile(join(dir, 'nubo.env'));
  const rbd = async (args: string[], user = 'admin') => (await exec('rbd', ['--conf', conf, '--id', user, ...args], { timeout: 60_000 })).stdout;
  return {
    dir,
    conf,
    env,
    rbd,
    rbdJson: async <T>(args: string[], user?: string) => JSON.parse(await rbd([...args, '--format', 'json'], user)) as T,
    ceph: async (args) => (await exec('ceph', ['--conf', conf, '--connect-timeout', '20', ...args], { timeout: 60_000 })).stdout,
    halt: async () => void (await exec(join(scripts, 'down.sh'), ['--keep', dir], { timeout: 60_000 })),
    start: async () => void (await up()),
    stop: async () => void (await exec(join(scripts, 'down.sh'), [dir], { timeout: 60_000 })),
    radosgw: async (keystoneUrl) => {
      await exec(join(scripts, 'radosgw.sh'), [dir, keystoneUrl], { timeout: 120_000 });
      return envFile(join(dir, 'radosgw.env'));
    },
  };
}
