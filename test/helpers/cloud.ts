import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { startCloud, type Cloud } from '../../src/main.ts';
import { createLogger, type Logger } from '../../src/lib/log.ts';
import { readCredentials } from '../../src/credentials.ts';
import { openstackPool, type CliResult } from './openstack-pool.ts';
import { nuboArgv } from './nubo-command.ts';

const root = new URL('../..', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The directories this test process made, removed when it exits: those a test leaves behind
 * (failed half-way, or never removed) would pile up in the machine's temporary directory. */
const madeDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

export const tempDir = (prefix = 'nubo-test-') => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
};

export interface TestCloud {
  cloud: Cloud;
  url: string;
  dataDir: string;
  /** A request to the cloud, as fetch answers it, with the JSON body parsed when there is one. */
  request(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<{ status: number; headers: Headers; body: any }>;
  /** A token scoped to a project, by password. */
  login(user: string, password: string, project?: string): Promise<string>;
  adminToken(): Promise<string>;
  stop(): Promise<void>;
}

/** Requests to a cloud at `url` (in this process or spawned), and a password login as the
 * Default domain's users do. */
export function httpClient(url: string): Pick<TestCloud, 'request' | 'login'> {
  const request: TestCloud['request'] = async (method, path, o = {}) => {
    // As the SDKs ask: Glance answers errors in JSON only to a client that asks for JSON.
    const headers: Record<string, string> = { accept: 'application/json', ...(o.token ? { 'x-auth-token': o.token } : {}), ...o.headers };
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const login = async (user: string, password: string, project?: string) => {
    const res = await request('POST', '/identity/v3/auth/tokens?nocatalog', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
          ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
        },
      },
    });
    if (res.status !== 201) throw new Error(`login ${user}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.headers.get('x-subject-token')!;
  };
  return { request, login };
}

/** A cloud in this process on a free port, with a fresh data directory and, unless told
 * otherwise, a throw-away embedded database. */
export async function startTestCloud(
  opts: {
    database?: string;
    tokenTtl?: number;
    dataDir?: string;
    computeDriver?: 'qemu' | 'fake';
    /** Seconds a new server waits for its ports (default 300). */
    vifPluggingTimeout?: number;
    /** A real (Linux) network data plane inside this namespace, which the caller made. */
    networkNetns?: string;
    /** Where the cloud logs (silent, or NUBO_TEST_LOG's level, unless given). */
    log?: Logger;
    /** NUBO_* settings beyond these (a test Ceph's nubo.env, for one). */
    env?: Record<string, string>;
    /** A port chosen beforehand, for a daemon told the cloud's URL before it starts (radosgw). */
    port?: number;
  } = {},
): Promise<TestCloud> {
  const dataDir = opts.dataDir ?? tempDir();
  const port = opts.port ?? (await freePort());
  const config = loadConfig(
    {
      port: String(port),
      dataDir,
      database: opts.database ?? 'memory://',
      tokenTtl: opts.tokenTtl ? String(opts.tokenTtl) : undefined,
      computeDriver: opts.computeDriver ?? 'fake',
      vifPluggingTimeout: opts.vifPluggingTimeout?.toString(),
      networkDataplane: opts.networkNetns ? 'linux' : 'fake',
      networkNetns: opts.networkNetns,
    },
    opts.env ?? {},
  );
  const cloud = await startCloud(config, opts.log ?? createLogger(process.env.NUBO_TEST_LOG ?? 'silent'));
  const url = config.publicUrl;
  const { request, login } = httpClient(url);
  return {
    cloud,
    url,
    dataDir,
    request,
    login,
    adminToken: () => login('admin', cloud.credentials!.password, 'admin'),
    async stop() {
      await cloud.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the PostgreSQL server named by NUBO_TEST_POSTGRES (default: the local one
 * on 127.0.0.1:5432 as user postgres, trust auth). */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.NUBO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `nubo_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return {
    url: Object.assign(new URL(admin), { pathname: `/${name}` }).toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface SpawnedNubo {
  url: string;
  dataDir: string;
  /** OS_* variables for the admin, from the openrc the cloud wrote. */
  env: Record<string, string>;
  process: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The OS_* variables with which the openstack CLI and openstacksdk reach a cloud at `url` as its admin. */
export const adminEnv = (url: string, password: string): Record<string, string> => ({
  OS_AUTH_URL: `${url}/identity`,
  OS_AUTH_TYPE: 'password',
  OS_IDENTITY_API_VERSION: '3',
  OS_USERNAME: 'admin',
  OS_PASSWORD: password,
  OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_REGION_NAME: 'RegionOne',
});

/** How long a spawned `nubo up` may take to say it is up. On a loaded machine (load average 28
 * on 2 cores) first starts took 122 and 147 s, about 53 s of them creating the embedded database
 * in its child process, and restarts 49 and 55 s: 60 s failed tests that were merely slow. */
const START_TIMEOUT = 240_000;

/** `nubo up` as its own process, as a user starts it; resolves once it says it is up, or kills it
 * and rejects. */
export async function spawnNubo(opts: { dataDir?: string; port?: number; args?: string[]; env?: Record<string, string> } = {}): Promise<SpawnedNubo> {
  const dataDir = opts.dataDir ?? tempDir();
  const port = opts.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    // As npm test runs the tests (README): a cloud that lives a minute is not worth V8 optimising
    // the embedded database's WebAssembly a second time.
    ['--liftoff-only', ...nuboArgv, 'up', '--port', String(port), '--data-dir', dataDir, ...(opts.args ?? [])],
    {
      cwd: root,
      // Tests wire no real network unless they ask, and then in namespaces of their own.
      env: { ...process.env, NUBO_LOG_LEVEL: 'warn', NUBO_NETWORK_DATAPLANE: 'fake', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nubo up did not start in ${START_TIMEOUT / 1000} s:\n${out}`)), START_TIMEOUT);
      const check = () => {
        if (out.includes('Nubo is up')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nubo up exited with ${code}:\n${out}`));
      });
    });
  } catch (err) {
    // A test that gives up on its cloud must not leave it running: SIGTERM lets nubo stop what it
    // started (the database's creation runs in a child of its own), SIGKILL if it does not listen.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    }
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const env = adminEnv(url, readCredentials(dataDir)?.password ?? '');
  return {
    url,
    dataDir,
    env,
    process: child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill(signal);
      });
      // A data directory the caller chose is the caller's to keep (a restart reuses it).
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const run = promisify(execFile);

/** The real `openstack` CLI (Debian's python3-openstackclient) with the given OS_* variables:
 * its own main(), run by interpreters kept for the test's life (openstack-pool.ts). */
export function openstack(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !k.startsWith('OS_') && v !== undefined)) as Record<string, string>;
  return openstackPool.run(args, { ...clean, ...env }, 60_000);
}

/** Nubo's own CLI, as installed (nubo-command.ts), with the given OS_* variables. */
export async function nubo(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [...nuboArgv, ...args], { cwd: root, env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A CLI (openstack by default) as one user, whose env is read at each call (clouds start in
 * before()): each call asserts success and returns what the command printed. */
export const cliAs =
  (env: () => Record<string, string>, cli = openstack) =>
  async (...args: string[]): Promise<string> => {
    const r = await cli(env(), ...args);
    assert.equal(r.code, 0, `${cli.name} ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

/** An openstack command that must fail; returns what it said on stderr. */
export async function cliFails(env: Record<string, string>, ...args: string[]): Promise<string> {
  const r = await openstack(env, ...args);
  assert.notEqual(r.code, 0, `openstack ${args.join(' ')} should have failed`);
  return r.stderr;
}
