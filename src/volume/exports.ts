import { createServer } from 'node:net';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import { MOVE_ENDED } from '../compute/resize.ts';
import { SERVERS_CHANNEL } from '../compute/servers.ts';
import { hostKeys, migrations, servers } from '../compute/tables.ts';
import { run } from '../lib/host/run.ts';
import { objectArg, pskCreds, writePskFile } from '../lib/host/tls-psk.ts';
import type { Logger } from '../lib/log.ts';
import { alsoListen, startController, type Controller } from '../lib/reconcile/controller.ts';
import { notify, RESYNC, type Store } from '../lib/store/db.ts';
import { ATTACHMENTS_CHANNEL } from './attachments.ts';
import type { VolumeDriver } from './drivers/driver.ts';
import { EXPORTS_CHANNEL } from './service.ts';
import { attachments, volumes, type NbdExport } from './tables.ts';

// Volumes opened by guests on other hosts, as Cinder's iSCSI targets serve them: the volume
// service runs one qemu-nbd per such volume, at its export address, with TLS whose pre-shared keys
// are those of the hosts whose guests open it, and nobody else's. The export follows the servers:
// a server that moves (a migration under way names two hosts) or is evacuated changes the set;
// a host that leaves the set has its connection cut by a restart of the export, which fences an
// evacuated guest still running on a host thought dead. qemu-nbd forks away from Nubo, so that a
// restart of the volume service does not take the guests' disks away; the next start adopts it.

/** The attachments whose guests hold the volume open (or are about to). */
const OPEN = ['attaching', 'attached', 'detaching', 'error_detaching'] as const;
/** The moves whose two hosts both open the volume until the move ends. An evacuation never lets
 * its source in: it is down, and must not write any more. */
const MOVES_SHARING = ['live-migration', 'migration', 'resize'] as const;

export interface ExportOptions {
  store: Store;
  driver: VolumeDriver;
  /** The volume service's own host: its guests open the files where they are. */
  host: string;
  /** The address the exports listen on; unset, guests on other hosts get no volumes. */
  address?: string;
  /** Each export's pid file and key file go under <dir>/<volume id>/. */
  dir: string;
  log: Logger;
}

export async function startVolumeExports(opts: ExportOptions): Promise<Controller> {
  const { store, driver, log } = opts;
  const db = store.db;
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const dirOf = (volumeId: string) => join(opts.dir, volumeId);

  /** The hosts other than this one whose guests hold the volume, by the servers' places now. */
  async function hostsOf(volumeId: string): Promise<string[]> {
    const rows = await db
      .select({ serverId: servers.id, host: servers.host })
      .from(attachments)
      .innerJoin(servers, eq(servers.id, attachments.serverId))
      .where(and(eq(attachments.volumeId, volumeId), inArray(attachments.status, [...OPEN])));
    const hosts = new Set(rows.flatMap((r) => r.host ?? []));
    if (rows.length) {
      const moving = await db
        .select({ serverId: migrations.serverId, id: migrations.id, source: migrations.sourceCompute, dest: migrations.destCompute })
        .from(migrations)
        .where(
          and(
            inArray(
              migrations.serverId,
              rows.map((r) => r.serverId),
            ),
            inArray(migrations.migrationType, [...MOVES_SHARING]),
            notInArray(migrations.status, MOVE_ENDED),
            // Only a server's latest migration can be under way.
            sql`${migrations.id} = (select max(l.id) from ${migrations} l where l.server_id = ${migrations.serverId})`,
          ),
        );
      for (const m of moving) for (const h of [m.source, m.dest]) if (h) hosts.add(h);
    }
    hosts.delete(opts.host);
    return [...hosts].sort();
  }

  async function running(volumeId: string): Promise<number | undefined> {
    const pid = Number((await readFile(join(dirOf(volumeId), 'pid'), 'utf8').catch(() => '')).trim());
    if (!(pid > 0)) return undefined;
    // The pid file may outlive its process and name a recycled pid.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.startsWith('qemu-nbd\0') && cmdline.includes(`\0--export-name=${volumeId}\0`) ? pid : undefined;
  }

  async function stop(volumeId: string): Promise<void> {
    const pid = await running(volumeId);
    if (pid) {
      process.kill(pid, 'SIGTERM');
      // Its port is taken again at once by the export's next process.
      for (let i = 0; i < 100 && (await running(volumeId)); i++) await new Promise((r) => setTimeout(r, 50));
      if (await running(volumeId)) process.kill(pid, 'SIGKILL');
    }
    await rm(join(dirOf(volumeId), 'pid'), { force: true });
  }

  async function start(volumeId: string, address: string, port: number): Promise<void> {
    const conn = driver.connection(volumeId);
    if (conn.driver !== 'file') throw new Error(`volume ${volumeId}: only the file backend's volumes are served over NBD`);
    const dir = dirOf(volumeId);
    await run(
      [
        'qemu-nbd',
        `--export-name=${volumeId}`,
        `--format=${conn.format}`,
        `--bind=${address}`,
        `--port=${port}`,
        // Each host's qemu holds one connection; two while a server moves between hosts.
        '--shared=8',
        '--persistent',
        // The page cache as the guests' own qemu uses it here; their flushes reach the disk.
        '--discard=unmap',
        '--object',
        objectArg(pskCreds('tls0', 'server', dir)),
        '--tls-creds=tls0',
        '--fork',
        `--pid-file=${join(dir, 'pid')}`,
        conn.filename,
      ],
      { log, timeoutMs: 30_000 },
    );
  }

  /** The keys of hosts; a host that has none yet (its agent never started) is left out. */
  async function keysOf(hosts: string[]): Promise<[string, string][]> {
    const rows = hosts.length ? await db.select().from(hostKeys).where(inArray(hostKeys.host, hosts)) : [];
    return rows.map((r) => [r.host, r.psk]);
  }

  async function reconcile(volumeId: string): Promise<void> {
    const [vol] = await db.select({ id: volumes.id, nbdExport: volumes.nbdExport }).from(volumes).where(eq(volumes.id, volumeId));
    const hosts = vol ? await hostsOf(volumeId) : [];
    const was = vol?.nbdExport ?? undefined;
    if (!hosts.length || !opts.address) {
      if (hosts.length) log.warn({ volume: volumeId, hosts }, 'guests on other hosts open this volume and no volume_export_address is set');
      await stop(volumeId);
      await rm(dirOf(volumeId), { recursive: true, force: true });
      if (was) await db.update(volumes).set({ nbdExport: null }).where(eq(volumes.id, volumeId));
      return;
    }
    // GnuTLS reads the key file at each handshake: a host added is let in without a restart.
    await writePskFile(dirOf(volumeId), await keysOf(hosts));
    const address = opts.address;
    const port = was && was.address === address ? was.port : await freePort(address);
    const left = (was?.hosts ?? []).filter((h) => !hosts.includes(h));
    if (left.length) {
      log.info({ volume: volumeId, hosts: left }, 'cutting hosts off a volume');
      await stop(volumeId);
    }
    if (!(await running(volumeId))) await start(volumeId, address, port);
    const next: NbdExport = { address, port, hosts };
    if (JSON.stringify(next) === JSON.stringify(was)) return;
    await store.tx(async (tx) => {
      await tx.update(volumes).set({ nbdExport: next }).where(eq(volumes.id, volumeId));
      // The guests' agents open the volume once the export names their host.
      const held = await tx
        .select({ serverId: attachments.serverId })
        .from(attachments)
        .where(and(eq(attachments.volumeId, volumeId), isNotNull(attachments.serverId)));
      for (const a of held) await notify(tx, ATTACHMENTS_CHANNEL, a.serverId!);
    });
    log.info({ volume: volumeId, address, port, hosts }, 'volume served over NBD');
  }

  const controller = await startController({
    name: 'volume-exports',
    store,
    channel: EXPORTS_CHANNEL,
    log,
    async listKeys() {
      const served = await db.select({ id: volumes.id }).from(volumes).where(isNotNull(volumes.nbdExport));
      const open = await db
        .selectDistinct({ id: attachments.volumeId })
        .from(attachments)
        .innerJoin(servers, eq(servers.id, attachments.serverId))
        .where(and(inArray(attachments.status, [...OPEN]), sql`${servers.host} is distinct from ${opts.host}`));
      const dirs = await readdir(opts.dir);
      return new Set([...served.map((v) => v.id), ...open.map((v) => v.id), ...dirs]);
    },
    reconcile,
    // The net under the notifications.
    resyncEvery: 60_000,
  });
  // A server that moved, or whose move ended, changes who may open its volumes.
  const volumesOf = (serverId: string) => {
    if (serverId === RESYNC) return controller.resync();
    void db
      .select({ id: attachments.volumeId })
      .from(attachments)
      .where(eq(attachments.serverId, serverId))
      .then((rows) => rows.forEach((r) => controller.add(r.id)))
      .catch((err) => log.warn({ server: serverId, err }, "volume exports: could not look at a server's volumes"));
  };
  return alsoListen(controller, store, SERVERS_CHANNEL, volumesOf, log);
}

/** A port free on address now (the kernel's pick), for a new export. */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
