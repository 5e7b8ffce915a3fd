// The widget agent as a separate process, killed with SIGKILL in the middle of its work and
// started again: restart is the normal path, so the state must converge with nothing lost and
// nothing left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, inArray, sql } from 'drizzle-orm';
import { notify, openStore, type Db, type Store } from '../../src/lib/store/db.ts';
import { freshPostgres, tempDir } from '../helpers/cloud.ts';
import { ensureWidgetTable, WIDGET_CHANNEL, widgets } from '../fixtures/widgets.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ids = Array.from({ length: 50 }, (_, i) => `w-${String(i).padStart(2, '0')}`);
const content = (id: string, version = 1) => `widget ${id}, version ${version}\n`.repeat(50);

interface Agent {
  /** The events the agent printed so far ("reconciled w-01", …). */
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once check(lines) holds; fails if the agent exits or the deadline passes first. */
  until(check: (lines: string[]) => boolean, what: string, ms?: number): Promise<void>;
}

// Every agent started, so that a failing test leaves no process behind.
const started = new Set<ChildProcess>();
const killAll = () => {
  for (const child of started) child.kill('SIGKILL');
};

function startAgent(store: string, dir: string, ...args: string[]): Agent {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/widget-agent.ts'), '--store', store, '--dir', dir, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  let exited = false;
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      started.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  return {
    lines,
    exit,
    kill: (signal) => void child.kill(signal),
    until: (check, what, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const fail = (why: string) => {
          waiters.delete(test);
          clearTimeout(timer);
          reject(new Error(`${what}: ${why}\nstdout tail: ${lines.slice(-5).join(' | ')}\nstderr: ${stderr}`));
        };
        const test = () => {
          if (check(lines)) {
            waiters.delete(test);
            clearTimeout(timer);
            resolve();
          } else if (exited) fail('the agent exited');
        };
        const timer = setTimeout(() => fail(`not within ${ms} ms`), ms);
        waiters.add(test);
        test();
      }),
  };
}

const count = (lines: string[], prefix: string) => lines.filter((l) => l.startsWith(prefix)).length;

/** Starts the agent on the slow path (each file takes half a second). */
const startSlowAgent = (store: string, dir: string) => startAgent(store, dir, '--step-ms', '100', '--concurrency', '4');

/** Kills the agent while it writes a file, once it has reconciled `done` widgets. */
async function killMidWay(agent: Agent, dir: string, done: number): Promise<{ reconciled: string[]; writing: string }> {
  try {
    let seen = 0;
    await agent.until((lines) => {
      if (count(lines, 'reconciled ') < done) return false;
      seen ||= lines.length;
      return lines.slice(seen - 1).some((l) => l.startsWith('writing '));
    }, `the agent reconciling ${done} widgets and starting another`);
  } finally {
    agent.kill('SIGKILL');
  }
  assert.equal((await agent.exit).signal, 'SIGKILL');
  const writing = agent.lines.filter((l) => l.startsWith('writing ')).at(-1)!.slice('writing '.length);
  const reconciled = agent.lines.filter((l) => l.startsWith('reconciled ')).map((l) => l.slice('reconciled '.length));
  // The kill must have come mid-way for this test to mean anything.
  assert.ok(existsSync(join(dir, `${writing}.widget.tmp`)), 'no file was being written when the agent was killed');
  assert.ok(reconciled.length < ids.length, 'the agent had already finished');
  return { reconciled, writing };
}

/** What is wrong with the actual state, compared with the rows: [] once it has converged. */
async function problems(db: Db, dir: string, expectedIds: string[]): Promise<string[]> {
  const rows = await db.select().from(widgets);
  const out: string[] = [];
  const have = rows.map((r) => r.id).sort();
  if (have.join() !== [...expectedIds].sort().join()) out.push(`rows are ${have.join()}`);
  for (const r of rows) {
    if (r.status !== 'ready') out.push(`${r.id} is ${r.status}`);
    const file = join(dir, `${r.id}.widget`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (text !== r.content) out.push(`${r.id}.widget is ${text === undefined ? 'missing' : 'wrong'}`);
  }
  const wanted = new Set(rows.map((r) => `${r.id}.widget`));
  for (const f of readdirSync(dir)) if (!wanted.has(f)) out.push(`${f} is left over`);
  return out;
}

/** While the agent is down: some finished widgets deleted or changed, the one being written
 * deleted, and a file left by a widget deleted long ago. Returns the ids that remain. */
async function changeWhileDown(store: Store, dir: string, reconciled: string[], writing: string): Promise<string[]> {
  const done = reconciled.filter((id) => id !== writing);
  const deleted = [...done.slice(0, 5), writing];
  const changed = done.slice(5, 8);
  for (const id of deleted) if (id !== writing) assert.ok(existsSync(join(dir, `${id}.widget`)), `${id}.widget should exist`);
  await store.tx(async (tx) => {
    await tx.delete(widgets).where(inArray(widgets.id, deleted));
    for (const id of changed) await tx.update(widgets).set({ content: content(id, 2), status: 'pending' }).where(eq(widgets.id, id));
  });
  writeFileSync(join(dir, 'gone-long-ago.widget'), 'stale');
  return ids.filter((id) => !deleted.includes(id));
}

/** Waits until problems() is empty, and fails with what is still wrong after ms. */
async function converge(db: Db, dir: string, expectedIds: string[], what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = await problems(db, dir, expectedIds);
  while (last.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    last = await problems(db, dir, expectedIds);
  }
  assert.deepEqual(last, [], what);
}

async function readyCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(widgets).where(eq(widgets.status, 'ready'));
  return row!.n;
}

test('PostgreSQL: an agent killed mid-way converges when restarted, and notifications wake it', { timeout: 180_000 }, async () => {
  const pg = await freshPostgres();
  const store = await openStore(pg.url);
  const dir = tempDir();
  try {
    await ensureWidgetTable(store.db);
    // Half are there before the agent starts (found by listing), half arrive by notification.
    await store.db.insert(widgets).values(ids.slice(0, 25).map((id) => ({ id, content: content(id) })));
    const first = startSlowAgent(pg.url, dir);
    await first.until((l) => l.includes('started'), 'the agent starting');
    await store.tx(async (tx) => {
      await tx.insert(widgets).values(ids.slice(25).map((id) => ({ id, content: content(id) })));
      for (const id of ids.slice(25)) await notify(tx, WIDGET_CHANNEL, id);
    });
    const { reconciled, writing } = await killMidWay(first, dir, 15);
    assert.ok((await readyCount(store.db)) < ids.length);
    let expected = await changeWhileDown(store, dir, reconciled, writing);

    const agent = startAgent(pg.url, dir, '--step-ms', '1');
    await converge(store.db, dir, expected, 'the state did not converge after the restart');

    // The agent resyncs only hourly: only a notification can bring these changes in time.
    await store.tx(async (tx) => {
      await tx.insert(widgets).values({ id: 'late', content: content('late') });
      await tx.update(widgets).set({ content: content(expected[0]!, 3), status: 'pending' }).where(eq(widgets.id, expected[0]!));
      await tx.delete(widgets).where(eq(widgets.id, expected[1]!));
      for (const id of ['late', expected[0]!, expected[1]!]) await notify(tx, WIDGET_CHANNEL, id);
    });
    expected = [...expected.filter((id) => id !== expected[1]), 'late'];
    await converge(store.db, dir, expected, 'changes notified after the start were not reconciled', 30_000);

    agent.kill('SIGTERM');
    assert.deepEqual(await agent.exit, { code: 0, signal: null }, 'the agent did not stop cleanly on SIGTERM');
  } finally {
    killAll();
    await store.close();
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PGlite directory: an agent killed mid-way converges when run again', { timeout: 180_000 }, async () => {
  const base = tempDir();
  const dbDir = join(base, 'db');
  const dir = join(base, 'files');
  mkdirSync(dir);
  try {
    // One process at a time: a PGlite directory cannot be opened by two.
    let store = await openStore(dbDir);
    await ensureWidgetTable(store.db);
    await store.db.insert(widgets).values(ids.map((id) => ({ id, content: content(id) })));
    await store.close();

    const { reconciled, writing } = await killMidWay(startSlowAgent(dbDir, dir), dir, 15);

    store = await openStore(dbDir);
    assert.ok((await readyCount(store.db)) < ids.length);
    const expected = await changeWhileDown(store, dir, reconciled, writing);
    await store.close();

    const agent = startAgent(dbDir, dir, '--step-ms', '1', '--exit-when-idle');
    await agent.until((l) => l.includes('idle'), 'the agent running until idle');
    assert.deepEqual(await agent.exit, { code: 0, signal: null });

    store = await openStore(dbDir);
    try {
      assert.deepEqual(await problems(store.db, dir, expected), []);
    } finally {
      await store.close();
    }
  } finally {
    killAll();
    rmSync(base, { recursive: true, force: true });
  }
});
