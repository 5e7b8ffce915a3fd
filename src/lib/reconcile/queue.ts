// A work queue of string keys for level-based reconcilers: each key stands for "go and look at
// this resource again", so queuing it many times means one run, and what matters is that the
// run starts after the latest change.

/** What a reconcile run may ask for: to be run again after requeueAfter ms (polling a resource
 * that is still converging) even though nothing changed in the store. */
export interface ReconcileResult {
  requeueAfter?: number;
}

/** Thrown by a reconciler for errors that retrying cannot fix (bad image, missing flavor): the
 * key is not retried; the queue hands the error to onTerminal to record it as a fault. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface QueueDepth {
  queued: number;
  running: number;
  waiting: number;
}

export interface WorkQueueOptions {
  /** Brings the resource named by key toward its desired state. Throw to retry with back-off. */
  run: (key: string) => Promise<ReconcileResult | void>;
  /** How many different keys may run at once (default 4). */
  concurrency?: number;
  /** First retry delay after an error, doubled on each further error (default 500 ms). */
  backoffBaseMs?: number;
  /** Ceiling of the retry delay (default 60 s). */
  backoffMaxMs?: number;
  /** Told of each retryable error and when the key will run again. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
  /** Records a TerminalError (as a fault on the resource); the key is then left alone until
   * queued again. Awaited within the key's run; if it throws, the key is retried with back-off. */
  onTerminal?: (key: string, err: TerminalError) => Promise<void> | void;
}

/**
 * Guarantees: a key queued any number of times before it starts runs once; a key never runs
 * twice at the same time; a key queued while it runs runs once more after; at most
 * `concurrency` keys run at once; keys start in the order they were first queued.
 */
export class WorkQueue {
  private readonly ready: string[] = []; // dirty keys not running, in queue order
  private readonly dirty = new Set<string>(); // keys that must run (again)
  private readonly running = new Map<string, Promise<void>>();
  // A pending timer stands for unfinished work (a retry, a settling change); a poll's does not.
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout; pending: boolean }>();
  private readonly failures = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private stopping?: Promise<void>;
  private readonly concurrency: number;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(private readonly opts: WorkQueueOptions) {
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.baseMs = opts.backoffBaseMs ?? 500;
    this.maxMs = opts.backoffMaxMs ?? 60_000;
  }

  /** Queues key to run as soon as a worker is free (or after its current run). No-op once stopped. */
  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.running.has(key)) this.ready.push(key);
    this.pump();
  }

  /** Queues key after ms, so that a burst of changes to what it stands for makes one run; if the
   * key already waits on a timer, the earlier time wins. A no-op while the key is queued. */
  settle(key: string, ms: number): void {
    if (!this.dirty.has(key)) this.schedule(key, ms, true);
  }

  /** True when nothing is queued, settling, running, or waiting to retry after an error. Keys
   * waiting on requeueAfter do not count: they are scheduled polls, not unfinished work. */
  get isIdle(): boolean {
    return this.dirty.size === 0 && this.running.size === 0 && ![...this.timers.values()].some((t) => t.pending);
  }

  /** How much work there is: keys queued to run, running, and waiting on a timer to settle a
   * burst of changes or to retry after an error (scheduled polls are not work). */
  get depth(): QueueDepth {
    return { queued: this.dirty.size, running: this.running.size, waiting: [...this.timers.values()].filter((t) => t.pending).length };
  }

  /** Resolves the next time isIdle holds (at once if it holds now; once stopped, when stop() is done). */
  idle(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Accepts no more keys, cancels the timers, and resolves once the runs under way are over. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const t of this.timers.values()) clearTimeout(t.timer);
      this.timers.clear();
      this.ready.length = 0;
      this.dirty.clear();
      // runOne never rejects: its errors go to onError.
      await Promise.all(this.running.values());
      this.wakeIdle();
    })();
    return this.stopping;
  }

  private schedule(key: string, ms: number, pending: boolean): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const current = this.timers.get(key);
    if (current && current.at <= at) {
      current.pending ||= pending;
      return;
    }
    if (current) clearTimeout(current.timer);
    // Cleared by stop() and when the key starts running, so no timer outlives the queue.
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer, pending: pending || (current?.pending ?? false) });
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.dirty.delete(key);
      // The run about to start re-reads everything and decides its own next run, so a pending
      // retry or poll of this key is now redundant.
      const t = this.timers.get(key);
      if (t) {
        clearTimeout(t.timer);
        this.timers.delete(key);
      }
      this.running.set(key, this.runOne(key));
    }
  }

  private async runOne(key: string): Promise<void> {
    try {
      const result = await this.attempt(key);
      this.failures.delete(key);
      if (result?.requeueAfter !== undefined) this.schedule(key, Math.max(0, result.requeueAfter), false);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n - 1, 30));
      this.schedule(key, delay, true);
      this.safely(() => this.opts.onError?.(key, err, delay));
    } finally {
      this.running.delete(key);
      if (this.dirty.has(key) && !this.stopped) this.ready.push(key);
      this.pump();
      if (this.isIdle) this.wakeIdle();
    }
  }

  // A terminal error is recorded here, inside the key's run, so that the record never races a
  // new run of the key and a failure to record it is retried like any other error.
  private async attempt(key: string): Promise<ReconcileResult | void> {
    try {
      return await this.opts.run(key);
    } catch (err) {
      if (!(err instanceof TerminalError)) throw err;
      await this.opts.onTerminal?.(key, err);
      return undefined;
    }
  }

  // A throwing log callback must not wedge the key in "running" or crash the process.
  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // onError only reports; there is nothing better to do with its own failure.
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
