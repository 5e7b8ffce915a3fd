import { Worker } from 'node:worker_threads';
import type { ScryptOptions } from 'node:crypto';
import { unavailable } from '../lib/errors.ts';

/** scrypt, synchronously, on a thread of its own: it never takes a slot of libuv's pool, which
 * file I/O needs. Plain JavaScript, evaluated: the worker needs no module loader. */
const SCRYPT = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', ({ password, salt, keylen, options }) => {
  try {
    parentPort.postMessage({ key: scryptSync(password, salt, keylen, options) });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
});`;

export interface KdfPoolOptions {
  /** Threads that hash at once. */
  threads: number;
  /** Hashes that may wait for a thread; past that a new one is refused at once. */
  queue: number;
}

interface Job {
  input: { password: string; salt: Buffer; keylen: number; options: ScryptOptions };
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

export const busy = () => unavailable('Too many password checks are waiting; try again shortly.', 1);

/** A thread and the job it runs, if any. */
interface Thread {
  worker: Worker;
  job?: Job;
}

/**
 * A bounded pool of scrypt threads with a bounded queue in front: a flood of password checks waits
 * here, or is answered 503, instead of holding every thread that I/O shares. Threads start on
 * demand and hold the process open only while they hash.
 */
export class KdfPool {
  private readonly threads = new Set<Thread>();
  private readonly waiting: Job[] = [];
  private done = 0;

  constructor(private options: KdfPoolOptions) {}

  /** New sizes apply at once: threads over the new count stop once idle, new ones take waiting jobs. */
  configure(options: KdfPoolOptions): void {
    this.options = options;
    for (const t of this.threads) if (!t.job && this.threads.size > options.threads) this.stop(t);
    while (this.waiting.length && this.threads.size < options.threads) this.start(this.spawn(), this.waiting.shift()!);
  }

  /** Jobs hashing, jobs waiting, and jobs finished since the process started. */
  stats(): { running: number; waiting: number; completed: number } {
    return { running: [...this.threads].filter((t) => t.job).length, waiting: this.waiting.length, completed: this.done };
  }

  /** Whether a new job would be refused: every thread busy and the queue full. */
  full(): boolean {
    return this.threads.size >= this.options.threads && [...this.threads].every((t) => t.job) && this.waiting.length >= this.options.queue;
  }

  scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const job = { input: { password, salt, keylen, options }, resolve, reject };
      const idle = [...this.threads].find((t) => !t.job);
      if (idle) return this.start(idle, job);
      if (this.threads.size < this.options.threads) return this.start(this.spawn(), job);
      if (this.waiting.length >= this.options.queue) return reject(busy());
      this.waiting.push(job);
    });
  }

  /** Stops the idle threads; a busy one lets the process go once its job is done, and a later
   * job starts threads anew. */
  close(): void {
    for (const t of this.threads) if (!t.job) this.stop(t);
  }

  private spawn(): Thread {
    const thread: Thread = { worker: new Worker(SCRYPT, { eval: true, execArgv: [] }) };
    thread.worker.on('message', (m: { key?: Uint8Array; error?: string }) => {
      const job = thread.job!;
      thread.job = undefined;
      this.done++;
      if (m.key) job.resolve(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength));
      else job.reject(new Error(`scrypt: ${m.error}`));
      this.next(thread);
    });
    // A thread that died takes its job with it; the next job starts another.
    thread.worker.on('error', (err) => {
      this.threads.delete(thread);
      thread.job?.reject(err);
      thread.job = undefined;
      const job = this.waiting.shift();
      if (job) this.start(this.spawn(), job);
    });
    this.threads.add(thread);
    return thread;
  }

  private start(thread: Thread, job: Job): void {
    thread.job = job;
    thread.worker.ref();
    thread.worker.postMessage(job.input);
  }

  private next(thread: Thread): void {
    if (this.threads.size > this.options.threads) return this.stop(thread);
    const job = this.waiting.shift();
    if (job) return this.start(thread, job);
    thread.worker.unref();
  }

  private stop(thread: Thread): void {
    this.threads.delete(thread);
    void thread.worker.terminate();
  }
}
