import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalError, WorkQueue, type WorkQueueOptions } from '../../src/lib/reconcile/queue.ts';

/** A promise with its resolve function, to hold a run open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function queue(run: WorkQueueOptions['run'], o: Partial<WorkQueueOptions> = {}): WorkQueue {
  return new WorkQueue({ run, backoffBaseMs: 5, backoffMaxMs: 1000, ...o });
}

test('a key queued many times before it starts runs once', { timeout: 10_000 }, async () => {
  const runs: string[] = [];
  const hold = gate();
  const q = queue(
    async (key) => {
      runs.push(key);
      if (key === 'blocker') await hold.promise;
    },
    { concurrency: 1 },
  );
  q.add('blocker');
  for (let i = 0; i < 5; i++) q.add('a');
  q.add('b');
  q.add('a');
  hold.open();
  await q.idle();
  assert.deepEqual(runs, ['blocker', 'a', 'b']);
  await q.stop();
});

test('a key never runs twice at the same time, and concurrency bounds the runs', { timeout: 10_000 }, async () => {
  const inFlight = new Map<string, number>();
  let total = 0;
  let maxTotal = 0;
  let maxPerKey = 0;
  let runs = 0;
  const q = queue(
    async (key) => {
      runs++;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      total++;
      maxTotal = Math.max(maxTotal, total);
      maxPerKey = Math.max(maxPerKey, inFlight.get(key)!);
      await new Promise((r) => setTimeout(r, 2));
      inFlight.set(key, inFlight.get(key)! - 1);
      total--;
    },
    { concurrency: 3 },
  );
  const keys = ['a', 'b', 'c', 'd', 'e'];
  for (let round = 0; round < 20; round++) {
    for (const k of keys) q.add(k);
    await new Promise((r) => setTimeout(r, 1));
  }
  await q.idle();
  assert.equal(maxPerKey, 1, 'one key ran twice at once');
  assert.equal(maxTotal, 3, 'the concurrency was not used in full, or was exceeded');
  assert.ok(runs >= keys.length);
  await q.stop();
});

test('a key queued while it runs runs once more, after the run under way', { timeout: 10_000 }, async () => {
  const events: string[] = [];
  const first = gate();
  let n = 0;
  const q = queue(async (key) => {
    const i = ++n;
    events.push(`start ${key}${i}`);
    if (i === 1) await first.promise;
    events.push(`end ${key}${i}`);
  });
  q.add('a');
  await tick();
  q.add('a');
  q.add('a');
  await tick();
  assert.deepEqual(events, ['start a1'], 'the second run started before the first ended');
  first.open();
  await q.idle();
  assert.deepEqual(events, ['start a1', 'end a1', 'start a2', 'end a2']);
  await q.stop();
});

test('errors are retried with doubling delays up to the ceiling, and success resets them', { timeout: 10_000 }, async () => {
  let failuresLeft = 4;
  const delays: number[] = [];
  const at: number[] = [];
  const q = queue(
    async () => {
      at.push(performance.now());
      if (failuresLeft-- > 0) throw new Error('not yet');
    },
    { backoffBaseMs: 10, backoffMaxMs: 30, onError: (_k, _e, ms) => delays.push(ms) },
  );
  q.add('a');
  await q.idle();
  assert.deepEqual(delays, [10, 20, 30, 30]);
  assert.equal(at.length, 5);
  // Each retry waited at least its delay (timers may round by a millisecond).
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= delays[i - 1]! - 1, `retry ${i} came early`);

  failuresLeft = 1;
  q.add('a');
  await q.idle();
  assert.deepEqual(delays, [10, 20, 30, 30, 10], 'the back-off was not reset by the success');
  await q.stop();
});

test('a key queued while it waits to retry runs at once', { timeout: 10_000 }, async () => {
  let runs = 0;
  const q = queue(
    async () => {
      if (++runs === 1) throw new Error('first run fails');
    },
    { backoffBaseMs: 60_000 },
  );
  q.add('a');
  while (runs === 0) await tick();
  await tick();
  assert.equal(q.isIdle, false, 'a key waiting to retry counts as work');
  q.add('a');
  await q.idle();
  assert.equal(runs, 2);
  await q.stop();
});

test('a terminal error is recorded and not retried', { timeout: 10_000 }, async () => {
  let runs = 0;
  const recorded: string[] = [];
  const errors: unknown[] = [];
  const q = queue(
    async () => {
      runs++;
      throw new TerminalError('bad image');
    },
    { onTerminal: (key, err) => void recorded.push(`${key}: ${err.message}`), onError: (_k, e) => errors.push(e) },
  );
  q.add('a');
  await q.idle();
  assert.equal(q.isIdle, true);
  assert.equal(runs, 1);
  assert.deepEqual(recorded, ['a: bad image']);
  assert.deepEqual(errors, []);
  await q.stop();
});

test('a terminal error that cannot be recorded is retried', { timeout: 10_000 }, async () => {
  let runs = 0;
  let recordFailures = 1;
  const recorded: string[] = [];
  const q = queue(
    async () => {
      runs++;
      throw new TerminalError('bad image');
    },
    {
      async onTerminal(key) {
        if (recordFailures-- > 0) throw new Error('store unavailable');
        recorded.push(key);
      },
    },
  );
  q.add('a');
  await q.idle();
  assert.equal(runs, 2);
  assert.deepEqual(recorded, ['a']);
  await q.stop();
});

test('requeueAfter runs the key again later, and a waiting poll is not unfinished work', { timeout: 10_000 }, async () => {
  const runs: number[] = [];
  const q = queue(async () => {
    runs.push(performance.now());
    return runs.length === 1 ? { requeueAfter: 20 } : undefined;
  });
  q.add('a');
  await q.idle();
  assert.equal(runs.length, 1);
  assert.equal(q.isIdle, true);
  while (runs.length < 2) await new Promise((r) => setTimeout(r, 5));
  assert.ok(runs[1]! - runs[0]! >= 19, 'the poll came early');
  await q.idle();
  assert.equal(runs.length, 2);
  await q.stop();
});

test('a settling key runs once after a burst of changes, and is unfinished work until then', { timeout: 10_000 }, async () => {
  const runs: number[] = [];
  const hold = gate();
  const q = queue(
    async (key) => {
      if (key === 'slow') await hold.promise;
      else runs.push(performance.now());
    },
    { concurrency: 1 },
  );
  const start = performance.now();
  for (let i = 0; i < 5; i++) {
    q.settle('a', 30);
    await tick();
  }
  assert.equal(q.isIdle, false, 'a settling key is work still to do');
  await q.idle();
  assert.equal(runs.length, 1);
  assert.ok(runs[0]! - start >= 29, 'the settling key ran early');
  q.add('slow');
  q.add('a');
  q.settle('a', 60_000);
  hold.open();
  await q.idle();
  assert.equal(runs.length, 2, 'a key already queued does not wait to settle');
  await q.stop();
});

test('stop waits for the runs under way, accepts no more, and leaves no timer behind', { timeout: 10_000 }, async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const hold = gate();
  const runs: string[] = [];
  const q = queue(
    async (key) => {
      runs.push(key);
      if (key === 'slow') await hold.promise;
      if (key === 'failing') throw new Error('retry in a minute');
      if (key === 'polling') return { requeueAfter: 60_000 };
    },
    { backoffBaseMs: 60_000 },
  );
  q.add('failing');
  q.add('polling');
  q.add('slow');
  await tick();
  await tick();
  assert.ok(timers() >= before + 2, 'the retry and the poll should each hold a timer');

  let stopped = false;
  const stopping = q.stop().then(() => (stopped = true));
  q.add('late');
  q.settle('later', 1);
  await tick();
  assert.equal(stopped, false, 'stop did not wait for the run under way');
  hold.open();
  await stopping;
  assert.equal(stopped, true);
  assert.deepEqual(runs.sort(), ['failing', 'polling', 'slow']);
  assert.equal(timers(), before, 'a timer outlived the queue');
  await q.idle();
});

test('depth counts the keys queued, running, and waiting to settle or retry, but not polls', { timeout: 10_000 }, async () => {
  const hold = gate();
  const q = queue(
    async (key) => {
      if (key === 'slow') await hold.promise;
      if (key === 'failing') throw new Error('not yet');
      if (key === 'poll') return { requeueAfter: 60_000 };
    },
    { concurrency: 2, backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
  );
  try {
    q.add('poll');
    q.add('failing');
    await tick();
    assert.deepEqual(q.depth, { queued: 0, running: 0, waiting: 1 }, 'the failed key waits to retry; the poll is not work');
    q.add('slow');
    q.add('a');
    q.add('b');
    q.settle('c', 60_000);
    assert.deepEqual(q.depth, { queued: 1, running: 2, waiting: 2 });
  } finally {
    hold.open();
    await q.stop();
  }
  assert.deepEqual(q.depth, { queued: 0, running: 0, waiting: 0 });
});
