import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Threads shared by every upload: enough for an upload's md5 and sha512 to run side by side,
 * more on larger machines for uploads at once, never one per upload. */
const SIZE = Math.max(2, Math.min(4, availableParallelism() - 1));
/** A thread with nothing to hash is stopped after this long, so that an idle server holds none. */
const IDLE_MS = 10_000;

/** Plain JavaScript, evaluated: the thread needs no module loader. Each job is one hash over a
 * ring the upload shares with it; each update and digest is answered once, in order, and what
 * still comes for a dropped job is ignored rather than fail the thread every upload shares. */
const HASHER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'start') return jobs.set(m.job, { ring: Buffer.from(m.ring), hash: createHash(m.algorithm) });
  const job = jobs.get(m.job);
  if (m.op === 'drop' || !job) return jobs.delete(m.job);
  if (m.op === 'update') {
    job.hash.update(job.ring.subarray(m.offset, m.offset + m.length));
    return parentPort.postMessage({ job: m.job });
  }
  jobs.delete(m.job);
  parentPort.postMessage({ job: m.job, digest: job.hash.digest('hex') });
});`;

/** One hash computed by a pool thread over ranges of a shared ring. */
export interface PooledHash {
  /** Resolves once the thread has hashed the range, so that it may be overwritten. */
  update(offset: number, length: number): Promise<void>;
  /** The hex digest of every range given, in order; the job ends with it. */
  digest(): Promise<string>;
  /** Ends the job without a digest; harmless after digest() or a failure. */
  drop(): void;
}

interface Waiter {
  resolve: (digest?: string) => void;
  reject: (err: Error) => void;
}

class HashThread {
  readonly jobs = new Map<number, Waiter[]>();
  private readonly worker: Worker;
  private idle?: NodeJS.Timeout;
  failure?: Error;

  constructor(private readonly gone: (t: HashThread) => void) {
    this.worker = new Worker(HASHER, { eval: true, execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (m: { job: number; digest?: string }) => this.jobs.get(m.job)?.shift()?.resolve(m.digest));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the hash thread stopped')));
  }

  send(message: Record<string, unknown>, waiter?: Waiter): void {
    if (this.failure) return waiter?.reject(this.failure);
    if (waiter) this.jobs.get(message.job as number)?.push(waiter);
    this.worker.postMessage(message);
  }

  open(job: number): void {
    clearTimeout(this.idle);
    this.jobs.set(job, []);
  }

  close(job: number): void {
    if (!this.jobs.delete(job) || this.jobs.size || this.failure) return;
    this.idle = setTimeout(() => {
      this.fail(new Error('the hash thread was idle'));
      void this.worker.terminate();
    }, IDLE_MS).unref();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.gone(this);
    for (const waiters of this.jobs.values()) for (const w of waiters.splice(0)) w.reject(this.failure);
  }
}

const threads: HashThread[] = [];
let nextJob = 1;

/** The thread with the fewest uploads, started if the pool is not full yet. */
function pick(): HashThread {
  const quietest = threads.reduce<HashThread | undefined>((best, t) => (!best || t.jobs.size < best.jobs.size ? t : best), undefined);
  if (quietest && (quietest.jobs.size === 0 || threads.length >= SIZE)) return quietest;
  const thread = new HashThread((t) => threads.includes(t) && threads.splice(threads.indexOf(t), 1));
  threads.push(thread);
  return thread;
}

/** Starts a hash of `algorithm` over ranges of `ring` on a pool thread. */
export function pooledHash(algorithm: string, ring: SharedArrayBuffer): PooledHash {
  const thread = pick();
  const job = nextJob++;
  thread.open(job);
  thread.send({ op: 'start', job, algorithm, ring });
  const ask = <T>(message: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => thread.send({ ...message, job }, { resolve: resolve as (d?: string) => void, reject }));
  return {
    update: (offset, length) => ask<void>({ op: 'update', offset, length }),
    digest: () => ask<string>({ op: 'digest' }).finally(() => thread.close(job)),
    drop() {
      if (!thread.jobs.has(job)) return;
      thread.send({ op: 'drop', job });
      thread.close(job);
    },
  };
}
