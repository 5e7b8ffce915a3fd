// The loop every agent runs: store notifications and periodic resyncs say which keys to look at,
// the work queue runs reconcile(key) under its discipline. Notifications are only hints: the
// reconciler reads the truth from the store and the host each time, so a lost notification
// costs at most one resync period and a restart costs one full list.

import type { Logger } from '../log.ts';
import { RESYNC, type Store } from '../store/db.ts';
import { registerQueue } from './depths.ts';
import { WorkQueue, type ReconcileResult, type TerminalError } from './queue.ts';

export { TerminalError, type ReconcileResult } from './queue.ts';

export interface ControllerOptions {
  /** Names the controller in logs. */
  name: string;
  store: Store;
  /** The store channel whose notifications carry a key to reconcile, or RESYNC ('*'). */
  channel: string;
  /** Every key that may need work: those with desired state in the store AND those with actual
   * state on the host (so that what was deleted from the store while the agent was down is
   * found and removed). Failures are logged and retried with back-off. */
  listKeys: () => Promise<Iterable<string>>;
  /**
   * Makes the actual state of key match its desired state, reading both afresh: it must be
   * idempotent and safe to call at any time, after a crash at any point of a previous run, and
   * for a key that exists on neither side. Throw to retry with back-off; throw TerminalError
   * when retrying cannot help; return { requeueAfter } to be called again later without a change.
   */
  reconcile: (key: string) => Promise<ReconcileResult | void>;
  /** Records a terminal error as a fault on the resource. If it throws, the key is retried. */
  onTerminal?: (key: string, err: TerminalError) => Promise<void> | void;
  /** How long a notified key waits before it runs, so that a burst of changes makes one run
   * (default: it runs as soon as a worker is free). */
  settleMs?: (key: string) => number;
  /** How many keys are reconciled at once (default 4). */
  concurrency?: number;
  /** How often every key is listed and queued again, in ms (default 5 minutes): the net that
   * catches drift on the host and notifications lost while the store connection was down. */
  resyncEvery?: number;
  /** Retry delays after errors: first, and ceiling (defaults 500 ms and 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  log: Logger;
}

export interface Controller {
  /** Queues every key again now (what a RESYNC notification does). */
  resync(): void;
  /** Queues a key as a notification of it does (settling as settleMs says): how a reconciler
   * hands work to another key of its own. */
  add(key: string): void;
  /** Resolves once no listing or reconcile is queued, running or waiting to retry after an error.
   * Keys waiting on requeueAfter do not count. A notification still in flight is not seen. */
  idle(): Promise<void>;
  /** Unsubscribes, then waits for the runs under way; nothing starts after. Idempotent. */
  stop(): Promise<void>;
}

const LIST = 'list';

/**
 * Subscribes to opts.channel, then lists and queues every key, and keeps reconciling until
 * stopped. Resolves once subscribed; the first listing runs in the background (see idle()).
 * Rejects only if the subscription cannot be made.
 */
export async function startController(opts: ControllerOptions): Promise<Controller> {
  const log = opts.log.child({ controller: opts.name });
  const resyncEvery = opts.resyncEvery ?? 5 * 60_000;

  const work = new WorkQueue({
    run: opts.reconcile,
    concurrency: opts.concurrency,
    backoffBaseMs: opts.backoffBaseMs,
    backoffMaxMs: opts.backoffMaxMs,
    onError: (key, err, retryInMs) => log.error({ key, err, retryInMs }, 'reconcile failed; will retry'),
    async onTerminal(key, err) {
      log.error({ key, err }, 'reconcile failed for good');
      await opts.onTerminal?.(key, err);
    },
  });

  // Listing is one key of its own one-worker queue: a resync asked for during a listing runs
  // once more after it, a failed listing is retried with back-off, and the periodic resync is
  // simply its requeueAfter.
  const lister = new WorkQueue({
    concurrency: 1,
    backoffBaseMs: opts.backoffBaseMs,
    backoffMaxMs: opts.backoffMaxMs,
    async run() {
      let n = 0;
      for (const key of await opts.listKeys()) {
        work.add(key);
        n++;
      }
      log.debug({ keys: n }, 'resynced');
      return { requeueAfter: resyncEvery };
    },
    onError: (_key, err, retryInMs) => log.error({ err, retryInMs }, 'listing keys failed; will retry'),
  });

  // Subscribe before the first listing, so that a change committed between the two is not lost.
  const take = (payload: string) => {
    // An empty payload names no key; the only safe reading is "anything may have changed".
    const settle = opts.settleMs?.(payload) ?? 0;
    if (payload === RESYNC || payload === '') lister.add(LIST);
    else if (settle > 0) work.settle(payload, settle);
    else work.add(payload);
  };
  const unlisten = await opts.store.listen(opts.channel, take);
  const unregister = registerQueue(opts.store, opts.name, () => work.depth);
  lister.add(LIST);
  log.debug({ channel: opts.channel }, 'controller started');

  let stopped = false;
  return {
    resync: () => lister.add(LIST),
    add: take,
    async idle() {
      // The lister feeds the work queue, so both must be idle at the same moment.
      while (!stopped) {
        await lister.idle();
        await work.idle();
        if (lister.isIdle && work.isIdle) return;
      }
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        unregister();
        // Failing to unsubscribe (store already closed) must not stop the runs from draining.
        await unlisten().catch((err: unknown) => log.warn({ err }, 'unsubscribing failed'));
      }
      await lister.stop();
      await work.stop();
    },
  };
}

/**
 * The controller, woken also by another channel's notifications, which onPayload turns into keys
 * (a server's id into its volumes', say). Its stop() unsubscribes first; a subscription that
 * cannot be made stops the controller and rejects.
 */
export async function alsoListen(c: Controller, store: Store, channel: string, onPayload: (payload: string) => void, log: Logger): Promise<Controller> {
  const unlisten = await store.listen(channel, onPayload).catch(async (err) => {
    await c.stop();
    throw err;
  });
  return {
    ...c,
    async stop() {
      await unlisten().catch((err: unknown) => log.warn({ err, channel }, 'unsubscribing failed'));
      await c.stop();
    },
  };
}
