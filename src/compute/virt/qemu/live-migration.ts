import type { MigrationTarget } from '../driver.ts';
import { migrationCreds } from './migration-tls.ts';
import { cont, objectDel, queryStatus, QmpError, withQmp, type Qmp } from './qmp.ts';

// Live migration between two hosts' qemus, as libvirt drives it for Nova. The destination's qemu
// waits (-incoming defer, then listening) and serves the guest's root disk, made empty over the
// same image, over NBD; the source mirrors its disk's own layer into it (the image below is the
// same on both hosts), sends its memory while the vCPUs run, and stops before the switch-over
// until the mirror has written the last of the disk, so that the destination starts on a disk
// that matches its memory. Both streams go over TLS with the migration's key (tlsDir holds it).

/** The root disk's block node, and its NBD export's name. */
const ROOT = 'root';
/** The source's node for the destination's export, its mirror job, and the destination's export. */
const MIRROR = 'migration-root';
const EXPORT_ID = 'migration';
/** The TLS credentials object of either end. */
const TLS_ID = 'migration-tls';

/** Far above what a network between hosts carries: qemu's default cap (128 MiB/s) would only slow it. */
const MAX_BANDWIDTH = 16 * 2 ** 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  'socket-address'?: unknown[];
}

const queryMigrate = (q: Qmp) => q.execute<MigrateInfo>('query-migrate');
const blockJobs = (q: Qmp) => q.execute<{ device: string; ready: boolean }[]>('query-block-jobs');

/** The end's TLS credentials, made afresh (an earlier migration's may be there, of the other end
 * or another key), and named as the migration's. */
async function useCreds(q: Qmp, endpoint: 'server' | 'client', dir: string): Promise<void> {
  await objectDel(q, TLS_ID).catch(() => undefined);
  await q.execute('object-add', migrationCreds(TLS_ID, endpoint, dir));
  await q.execute('migrate-set-parameters', { 'tls-creds': TLS_ID });
}

/** Migration parameters outlive the migration: a later save of the guest's memory to a file
 * (suspend) must not try TLS. */
const plainAgain = (q: Qmp) => q.execute('migrate-set-parameters', { 'tls-creds': '' });

/** Polls until `done` says so; `what` names the wait in the error when it lasts past the
 * deadline, or is cut short by the signal. */
async function until(what: string, limit: { deadline: number; signal?: AbortSignal }, done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) {
    if (limit.signal?.aborted) throw new Error(`live migration cancelled while ${what}`);
    if (Date.now() > limit.deadline) throw new Error(`live migration: ${what} took longer than allowed`);
    await sleep(50);
  }
}

/** The destination, in a qemu started with -incoming defer: listening for the memory at `at`, and
 * serving the local root disk (`localDisk`) writable at the next port. Each step is skipped when
 * done already. */
export async function listen(qmpSocket: string, at: MigrationTarget, localDisk: boolean, tlsDir: string): Promise<void> {
  await withQmp(qmpSocket, async (q) => {
    if (!(await queryMigrate(q))['socket-address']) {
      await useCreds(q, 'server', tlsDir);
      await q.execute('migrate-incoming', { uri: `tcp:${at.host}:${at.port}` });
    }
    if (!localDisk) return;
    const exports = await q.execute<{ id: string }[]>('query-block-exports');
    if (exports.some((e) => e.id === EXPORT_ID)) return;
    const addr = { type: 'inet', data: { host: at.host, port: String(at.port + 1) } };
    await q.execute('nbd-server-start', { addr, 'tls-creds': TLS_ID }).catch((err: Error) => {
      if (!(err instanceof QmpError && /already running/i.test(err.message))) throw err;
    });
    await q.execute('block-export-add', { type: 'nbd', id: EXPORT_ID, 'node-name': ROOT, name: ROOT, writable: true });
  });
}

/**
 * The source: mirrors the local root disk (`localDisk`) into the destination's export, sends the
 * memory, and at the switch-over ends the mirror before the destination runs. On failure, or once
 * `signal` aborts it before the switch-over, the migration and the mirror are cancelled and the
 * guest runs on here as it did.
 */
export async function send(qmpSocket: string, to: MigrationTarget, localDisk: boolean, tlsDir: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await withQmp(
    qmpSocket,
    async (q) => {
      // Sent already: qemu stays in postmigrate once it has sent the guest (a guest that arrived by
      // a migration also shows that migration completed, but runs).
      const runState = await queryStatus(q);
      if (runState === 'postmigrate' && (await queryMigrate(q)).status === 'completed') return;
      const wasRunning = runState === 'running';
      const limit = { deadline: Date.now() + timeoutMs, signal };
      try {
        await useCreds(q, 'client', tlsDir);
        if (localDisk) {
          await q.execute('blockdev-add', {
            driver: 'nbd',
            'node-name': MIRROR,
            server: { type: 'inet', host: to.host, port: String(to.port + 1) },
            export: ROOT,
            'tls-creds': TLS_ID,
          });
          // sync top: only what the guest's own layer holds; the image below is the destination's too.
          await q.execute('blockdev-mirror', { 'job-id': MIRROR, device: ROOT, target: MIRROR, sync: 'top' });
          await until('copying the disk', limit, async () => (await blockJobs(q)).some((j) => j.device === MIRROR && j.ready));
        }
        await q.execute('migrate-set-capabilities', { capabilities: [{ capability: 'pause-before-switchover', state: true }] });
        await q.execute('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH });
        await q.execute('migrate', { uri: `tcp:${to.host}:${to.port}` });
        let info: MigrateInfo = {};
        await until('sending the memory', limit, async () => {
          info = await queryMigrate(q);
          if (info.status === 'failed' || info.status === 'cancelled')
            throw new Error(`live migration ${info.status}: ${info['error-desc'] ?? 'no reason given'}`);
          return info.status === 'pre-switchover';
        });
        // The vCPUs are stopped: the mirror writes what is left and ends, then the destination runs.
        if (localDisk) {
          await q.execute('block-job-cancel', { device: MIRROR });
          await until('ending the disk copy', limit, async () => !(await blockJobs(q)).some((j) => j.device === MIRROR));
        }
        await q.execute('migrate-continue', { state: 'pre-switchover' });
        await until('the switch-over', { deadline: limit.deadline }, async () => {
          info = await queryMigrate(q);
          if (info.status === 'failed' || info.status === 'cancelled')
            throw new Error(`live migration ${info.status}: ${info['error-desc'] ?? 'no reason given'}`);
          return info.status === 'completed';
        });
        await plainAgain(q);
      } catch (err) {
        await rollBack(q, wasRunning);
        throw err;
      }
    },
    10_000,
  );
}

/** Undoes what send started, each step whether the one before worked or not. */
async function rollBack(q: Qmp, wasRunning: boolean): Promise<void> {
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
  await quietly(q.execute('migrate_cancel'));
  await quietly(q.execute('block-job-cancel', { device: MIRROR, force: true }));
  await quietly(until('cancelling the disk copy', { deadline: Date.now() + 10_000 }, async () => !(await blockJobs(q)).some((j) => j.device === MIRROR)));
  await quietly(q.execute('blockdev-del', { 'node-name': MIRROR }));
  await quietly(plainAgain(q));
  // A migration cancelled at the switch-over leaves the vCPUs stopped.
  if (wasRunning && (await queryStatus(q)) !== 'running') await cont(q);
}

/** The destination, once the source is done: the guest has arrived, and the export ends. */
export async function finish(qmpSocket: string): Promise<void> {
  await withQmp(qmpSocket, async (q) => {
    const status = await queryStatus(q);
    if (status === 'inmigrate') throw new Error('live migration: the guest has not arrived');
    await q.execute('nbd-server-stop').catch((err: Error) => {
      if (!(err instanceof QmpError && /not running/i.test(err.message))) throw err;
    });
    await plainAgain(q);
  });
}
