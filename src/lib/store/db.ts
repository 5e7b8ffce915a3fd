import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Logger } from '../log.ts';
import { initPgliteDir } from './pglite-init.ts';
import { migrationsFolder, readTemplate, templatePath } from './pglite-template.ts';
import { ensurePrivateDir, tightenTree } from '../private-dir.ts';
import { compileWasmInOneTask } from './wasm-threads.ts';

/** A database handle or an open transaction: domain functions accept either. */
export type Db = PgDatabase<PgQueryResultHKT>;

/** A listener's payload '*' means "anything may have changed": reconcile everything. */
export const RESYNC = '*';

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Runs fn in one transaction; notifications sent inside it are delivered on commit. */
  tx<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Calls onPayload for each notification on channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}


/** Wakes the listeners of channel once the surrounding transaction commits. */
export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/**
 * Opens the store named by url: `postgres://…` for a PostgreSQL server, `memory://` for a
 * throw-away embedded database, anything else is a directory for the embedded PGlite database.
 * Migrations are applied before it returns.
 */
export async function openStore(url: string, log?: Logger): Promise<Store> {
  return /^postgres(ql)?:\/\//.test(url) ? openPostgres(url, log) : openPglite(url);
}

// PostgreSQL's default 128 MB of shared buffers is resident in the embedded database's memory
// once touched; the operating system's page cache already holds the files, so 16 MB is enough for
// a cloud's catalogue and saves about 120 MB of the process at rest (bench/footprint.ts).
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

async function openPglite(url: string): Promise<Store> {
  const dir = url === 'memory://' ? undefined : url;
  if (dir) ensurePrivateDir(dir, 'database directory');
  const startParams = PGLITE_START_PARAMS;
  compileWasmInOneTask();
  if (dir) await initPgliteDir(dir, startParams, migrationsFolder, templatePath());
  // A throw-away database starts from the build's template too, when there is one.
  const client = await PGlite.create(dir, { startParams, loadDataDir: dir ? undefined : await readTemplate() });
  const db = drizzlePglite(client) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder });
  // PGlite gives its files modes of its own (0666 for those of a new database), whatever the umask.
  if (dir) tightenTree(dir);
  return {
    kind: 'pglite',
    db,
    tx: (fn) => db.transaction(fn),
    async listen(channel, onPayload) {
      // PGlite sends `LISTEN ${channel}` unquoted: quoted, the name is kept as is (case, dashes),
      // as pg_notify and the PostgreSQL listener treat it. Its own unsubscribe function drops the
      // quotes and would miss such a channel, so unlisten is called with the quoted name.
      const quoted = `"${channel.replaceAll('"', '""')}"`;
      await client.listen(quoted, onPayload);
      return () => client.unlisten(quoted, onPayload);
    },
    close: () => client.close(),
  };
}

async function openPostgres(url: string, log?: Logger): Promise<Store> {
  await migratePostgres(url);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that dies (server restart) must not crash the process; the pool replaces it.
  pool.on('error', (err) => log?.warn({ err }, 'postgres pool client error'));
  const db = drizzlePg(pool) as unknown as Db;
  const listeners = new PgListeners(url, log);
  return {
    kind: 'postgres',
    db,
    tx: (fn) => db.transaction(fn),
    listen: (channel, onPayload) => listeners.add(channel, onPayload),
    async close() {
      await listeners.close();
      await pool.end();
    },
  };
}

/** Migrations run under an advisory lock so that several controllers can start at once. A
 * database already up to date is left alone: an agent host's role may not create anything there
 * (src/lib/store/host-roles.ts), not even the schema drizzle's migrator makes if it is missing. */
async function migratePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(7469382)');
    if (!(await upToDate(client))) await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}

/** Whether the newest migration is applied, as drizzle's migrator decides it (by its timestamp). */
async function upToDate(client: pg.Client): Promise<boolean> {
  const newest = readMigrationFiles({ migrationsFolder }).at(-1)!.folderMillis;
  const applied = await client.query<{ at: string | null }>('select max(created_at) as at from drizzle.__drizzle_migrations').catch(() => undefined);
  return Number(applied?.rows[0]?.at) >= newest;
}

type Callback = (payload: string) => void;

/** One dedicated connection carries every LISTEN; if it drops it reconnects and tells every
 * listener to resync, since notifications sent meanwhile are lost. */
class PgListeners {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private readonly channels = new Map<string, Set<Callback>>();
  private readonly listening = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly log?: Logger,
  ) {}

  async add(channel: string, cb: Callback): Promise<() => Promise<void>> {
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(cb);
    // Every caller waits for the one LISTEN of its channel, so none returns before it is active.
    let ready = this.listening.get(channel);
    if (!ready) {
      ready = this.connect().then((client) => client.query(`LISTEN ${pg.escapeIdentifier(channel)}`).then(() => undefined));
      this.listening.set(channel, ready);
      ready.catch(() => this.listening.delete(channel));
    }
    try {
      await ready;
    } catch (err) {
      set.delete(cb);
      throw err;
    }
    return async () => {
      set.delete(cb);
    };
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', (n) => {
        for (const cb of this.channels.get(n.channel) ?? []) cb(n.payload ?? '');
      });
      // pg reports one lost connection as two errors (the server's, then "terminated
      // unexpectedly"): only the first may schedule a reconnect.
      let lost = false;
      client.on('error', (err) => {
        if (lost) return;
        lost = true;
        this.log?.warn({ err }, 'postgres listener connection lost; reconnecting');
        this.client = undefined;
        this.connecting = undefined;
        if (!this.closed) setTimeout(() => void this.reconnect(), 1000);
      });
      try {
        await client.connect();
      } catch (err) {
        // A failed attempt must not be what every later caller gets.
        this.connecting = undefined;
        throw err;
      }
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  private async reconnect(): Promise<void> {
    // A retry timer may fire after close(): connecting then would leak a connection.
    if (this.closed) return;
    try {
      const client = await this.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      for (const set of this.channels.values()) for (const cb of set) cb(RESYNC);
    } catch (err) {
      this.log?.warn({ err }, 'postgres listener reconnect failed');
      // A client that failed a LISTEN is not trusted to carry the others.
      const broken = this.client;
      this.client = undefined;
      this.connecting = undefined;
      await broken?.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.reconnect(), 2000);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    await client?.end();
  }
}
