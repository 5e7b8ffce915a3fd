// The controller in this process, against each kind of store: the same cases run on embedded
// PGlite and on a PostgreSQL server, since agents must behave the same on both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { notify, openStore, RESYNC, type Store } from '../../src/lib/store/db.ts';
import { startController, TerminalError, type Controller, type ControllerOptions } from '../../src/lib/reconcile/controller.ts';
import { freshPostgres, tempDir } from '../helpers/cloud.ts';
import { ensureWidgetTable, startWidgetAgent, WIDGET_CHANNEL, widgets } from '../fixtures/widgets.ts';

const backends = [
  { name: 'PGlite', open: async () => ({ url: 'memory://', drop: async () => {} }) },
  { name: 'PostgreSQL', open: freshPostgres },
];

// Mixed case and a dash: the channel name must reach both backends unchanged.
const CHANNEL = 'Test-Controller';

/** A logger whose lines the test can read. */
function memoryLog() {
  const lines: { level: number; msg: string; key?: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** Resolves once check() holds; fails the test if it does not within ms (a deadline, not a speed test). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A controller over a list of keys held by the test, recording each reconcile. */
async function recordingController(store: Store, keys: string[], o: Partial<ControllerOptions> = {}) {
  const runs: string[] = [];
  const { log, lines } = memoryLog();
  const controller = await startController({
    name: 'test',
    store,
    channel: CHANNEL,
    listKeys: async () => [...keys],
    reconcile: async (key) => void runs.push(key),
    resyncEvery: 3_600_000,
    backoffBaseMs: 5,
    log,
    ...o,
  });
  const count = (key: string) => runs.filter((k) => k === key).length;
  return { controller, runs, count, lines };
}

for (const backend of backends) {
  const withStore = async (fn: (store: Store) => Promise<void>) => {
    const db = await backend.open();
    const store = await openStore(db.url);
    try {
      await fn(store);
    } finally {
      await store.close();
      await db.drop();
    }
  };

  test(`${backend.name}: every key is reconciled at start, and notifications wake the controller`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      await ensureWidgetTable(store.db);
      const dir = tempDir();
      await store.db.insert(widgets).values([
        { id: 'a', content: 'alpha' },
        { id: 'b', content: 'beta' },
      ]);
      const events: string[] = [];
      const controller = await startWidgetAgent({
        store,
        dir,
        log: pino({ level: 'silent' }),
        resyncEvery: 3_600_000, // only a notification can bring a new widget in time
        onEvent: (e, id) => events.push(`${e} ${id}`),
      });
      try {
        await controller.idle();
        assert.equal(readFileSync(join(dir, 'a.widget'), 'utf8'), 'alpha');
        assert.equal(readFileSync(join(dir, 'b.widget'), 'utf8'), 'beta');

        await store.tx(async (tx) => {
          await tx.insert(widgets).values({ id: 'c', content: 'gamma' });
          await notify(tx, WIDGET_CHANNEL, 'c');
        });
        await eventually(() => events.includes('reconciled c'), 'reconciling c after its notification');
        assert.equal(readFileSync(join(dir, 'c.widget'), 'utf8'), 'gamma');
        const [c] = await store.db.select().from(widgets).where(eq(widgets.id, 'c'));
        assert.equal(c?.status, 'ready');

        await store.tx(async (tx) => {
          await tx.delete(widgets).where(eq(widgets.id, 'a'));
          await notify(tx, WIDGET_CHANNEL, 'a');
        });
        await eventually(() => events.includes('removed a'), 'removing a after its notification');
        assert.equal(existsSync(join(dir, 'a.widget')), false);
      } finally {
        await controller.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  test(`${backend.name}: a notification inside a transaction is acted on only once it commits`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const keys: string[] = [];
      const { controller, count } = await recordingController(store, keys);
      try {
        await controller.idle();
        await store
          .tx(async (tx) => {
            await notify(tx, CHANNEL, 'rolled-back');
            throw new Error('abort');
          })
          .catch(() => {});
        await store.tx((tx) => notify(tx, CHANNEL, 'committed'));
        await eventually(() => count('committed') === 1, 'reconciling the committed key');
        await controller.idle();
        assert.equal(count('rolled-back'), 0);
      } finally {
        await controller.stop();
      }
    }));

  test(`${backend.name}: a RESYNC notification queues every key again`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const keys = ['a'];
      const { controller, count } = await recordingController(store, keys);
      try {
        await controller.idle();
        assert.equal(count('a'), 1);
        keys.push('b'); // changed without a notification of its own
        await store.tx((tx) => notify(tx, CHANNEL, RESYNC));
        await eventually(() => count('b') === 1, 'reconciling b after a resync');
        await controller.idle();
        assert.equal(count('a'), 2);
      } finally {
        await controller.stop();
      }
    }));

  test(`${backend.name}: a burst of notifications of a settling key makes one run`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const { controller, count } = await recordingController(store, [], { settleMs: (key) => (key.startsWith('slow:') ? 1000 : 0) });
      try {
        await controller.idle();
        for (let i = 0; i < 5; i++) await store.tx(async (tx) => (await notify(tx, CHANNEL, 'slow:a'), notify(tx, CHANNEL, 'quick')));
        await eventually(() => count('quick') >= 1, 'reconciling the key that does not settle');
        assert.equal(count('slow:a'), 0, 'the settling key ran before it settled');
        await eventually(() => count('slow:a') === 1, 'reconciling the settling key');
        await controller.idle();
        assert.equal(count('slow:a'), 1);
      } finally {
        await controller.stop();
      }
    }));

  test(`${backend.name}: terminal errors are recorded once, other errors retried and logged`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const runs = new Map<string, number>();
      const faults: string[] = [];
      let flakyFailures = 2;
      let listFailures = 1;
      const { log, lines } = memoryLog();
      const controller = await startController({
        name: 'test',
        store,
        channel: CHANNEL,
        async listKeys() {
          if (listFailures-- > 0) throw new Error('store unavailable');
          return ['bad', 'flaky', 'fine'];
        },
        async reconcile(key) {
          runs.set(key, (runs.get(key) ?? 0) + 1);
          if (key === 'bad') throw new TerminalError('image is not bootable');
          if (key === 'flaky' && flakyFailures-- > 0) throw new Error('qemu not ready');
        },
        onTerminal: (key, err) => void faults.push(`${key}: ${err.message}`),
        backoffBaseMs: 5,
        resyncEvery: 3_600_000,
        log,
      });
      try {
        await controller.idle();
        assert.deepEqual(Object.fromEntries(runs), { bad: 1, flaky: 3, fine: 1 });
        assert.deepEqual(faults, ['bad: image is not bootable']);
        const errors = lines.filter((l) => l.level >= 50).map((l) => `${l.key ?? '-'} ${l.msg}`);
        assert.deepEqual(errors.sort(), [
          '- listing keys failed; will retry',
          'bad reconcile failed for good',
          'flaky reconcile failed; will retry',
          'flaky reconcile failed; will retry',
        ]);
      } finally {
        await controller.stop();
      }
    }));

  // What the controller relies on from the store: the channel name taken as it is, and an
  // unsubscribed callback told nothing more.
  test(`${backend.name}: store notifications reach each subscriber until it unsubscribes`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const first: string[] = [];
      const second: string[] = [];
      const unlistenFirst = await store.listen(CHANNEL, (p) => first.push(p));
      const unlistenSecond = await store.listen(CHANNEL, (p) => second.push(p));
      await store.tx((tx) => notify(tx, CHANNEL, 'x'));
      await eventually(() => first.includes('x') && second.includes('x'), 'both subscribers receiving x');
      await unlistenFirst();
      await store.tx((tx) => notify(tx, CHANNEL, 'y'));
      await eventually(() => second.includes('y'), 'the remaining subscriber receiving y');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(first, ['x']);
      await unlistenSecond();
    }));

  test(`${backend.name}: after stop, notifications reconcile nothing`, { timeout: 60_000 }, () =>
    withStore(async (store) => {
      const { controller, count } = await recordingController(store, []);
      await controller.idle();
      await controller.stop();
      // A second listener on the channel: once it has the notification, the stopped controller
      // would have had it too, since both are told in the same dispatch.
      const seen: string[] = [];
      const unlisten = await store.listen(CHANNEL, (p) => seen.push(p));
      await store.tx((tx) => notify(tx, CHANNEL, 'x'));
      await eventually(() => seen.includes('x'), 'the notification reaching the other listener');
      await new Promise((r) => setImmediate(r));
      assert.equal(count('x'), 0);
      await unlisten();
    }));
}

test('PostgreSQL: after the listening connection is lost, the controller resyncs', { timeout: 60_000 }, async () => {
  const db = await freshPostgres();
  const store = await openStore(db.url);
  const keys = ['a'];
  let controller: Controller | undefined;
  try {
    const rec = await recordingController(store, keys);
    controller = rec.controller;
    await controller.idle();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`);
      assert.equal(killed.rowCount, 1, 'the listening connection was not found');
    } finally {
      await admin.end();
    }
    // A change whose notification is lost with the connection.
    keys.push('lost');
    await eventually(() => rec.count('lost') === 1, 'reconciling the key changed while the connection was down');
    // And the new connection carries notifications again.
    await store.tx((tx) => notify(tx, CHANNEL, 'after'));
    await eventually(() => rec.count('after') === 1, 'reconciling a key notified on the new connection');
  } finally {
    await controller?.stop();
    await store.close();
    await db.drop();
  }
});

test('a restarted controller finds work left by the previous one', { timeout: 60_000 }, async () => {
  const store = await openStore('memory://');
  const dir = tempDir();
  try {
    await ensureWidgetTable(store.db);
    const log = pino({ level: 'silent' });
    let first = await startWidgetAgent({ store, dir, log });
    await first.idle();
    await first.stop();
    // While no controller runs: one widget added, one deleted, both without notifications.
    await store.db.insert(widgets).values({ id: 'added', content: 'new' });
    const second = await startWidgetAgent({ store, dir, log });
    await second.idle();
    assert.equal(readFileSync(join(dir, 'added.widget'), 'utf8'), 'new');
    await store.db.delete(widgets).where(eq(widgets.id, 'added'));
    await second.stop();
    first = await startWidgetAgent({ store, dir, log });
    await first.idle();
    assert.equal(existsSync(join(dir, 'added.widget')), false);
    await first.stop();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
