import { Worker } from 'node:worker_threads';
import type { StoreWriter } from './stores/store.ts';

/** Slots of the ring an upload goes through; a slot is written to the store and hashed once full. */
const SLOT_BYTES = 1024 * 1024;
const SLOTS = 8;

/** Each hash runs in its own thread over the shared ring, so that md5, sha512 and the disk write
 * proceed at once instead of one after the other on the event loop. Plain JavaScript, evaluated:
 * the worker needs no module loader. */
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ring = Buffer.from(workerData.ring);
const hash = createHash(workerData.algorithm);
parentPort.on('message', (m) => {
  if (m.end) return parentPort.postMessage({ digest: hash.digest('hex') });
  hash.update(ring.subarray(m.offset, m.offset + m.length));
  parentPort.postMessage({ slot: m.slot });
});`;

export interface Spooled {
  size: number;
  /** Hex digests by algorithm. */
  digests: Record<string, string>;
}

class Hasher {
  private readonly worker: Worker;
  private finished?: (digest: string) => void;

  constructor(algorithm: string, ring: SharedArrayBuffer, onSlot: (slot: number) => void, onError: (err: Error) => void) {
    this.worker = new Worker(HASHER, { eval: true, workerData: { algorithm, ring }, execArgv: [] });
    this.worker.on('message', (m: { slot?: number; digest?: string }) => (m.digest !== undefined ? this.finished?.(m.digest) : onSlot(m.slot!)));
    this.worker.on('error', onError);
  }

  hash(slot: number, offset: number, length: number): void {
    this.worker.postMessage({ slot, offset, length });
  }

  digest(): Promise<string> {
    return new Promise((resolve) => {
      this.finished = resolve;
      this.worker.postMessage({ end: true });
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Carries an upload to a store writer while hashing it, in bounded memory: chunks are copied into
 * a ring of shared slots; each full slot is hashed by both threads while it is written (after the
 * slots before it), and write() waits when every slot is still busy, which holds back the network.
 */
export class Spool {
  private readonly view: Buffer;
  private readonly busy: number[] = new Array(SLOTS).fill(0);
  private readonly idle: { promise: Promise<void>; resolve: () => void }[] = [];
  private readonly hashers: [string, Hasher][];
  private current = 0;
  private filled = 0;
  private size = 0;
  private failure?: Error;
  /** Writes go one after the other: concurrent writes to one file only contend for its lock. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: StoreWriter,
    algorithms: string[],
  ) {
    const ring = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
    this.view = Buffer.from(ring);
    for (let i = 0; i < SLOTS; i++) this.idle.push(settled());
    const fail = (err: Error) => this.fail(err);
    this.hashers = algorithms.map((a) => [a, new Hasher(a, ring, (slot) => this.release(slot), fail)]);
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      if (this.busy[this.current]) await this.idle[this.current]!.promise;
      if (this.failure) throw this.failure;
      const n = Math.min(chunk.length - at, SLOT_BYTES - this.filled);
      this.view.set(chunk.subarray(at, at + n), this.current * SLOT_BYTES + this.filled);
      this.filled += n;
      at += n;
      if (this.filled === SLOT_BYTES) this.dispatch();
    }
  }

  /** Flushes the last slot and waits for every write and hash: the size and the digests. */
  async end(): Promise<Spooled> {
    if (this.filled > 0) this.dispatch();
    await Promise.all(this.idle.map((s) => s.promise));
    if (this.failure) throw this.failure;
    const digests: Record<string, string> = {};
    for (const [algorithm, hasher] of this.hashers) digests[algorithm] = await hasher.digest();
    return { size: this.size, digests };
  }

  /** Stops the hash threads once no write is in flight any more; call it whatever happened. */
  async close(): Promise<void> {
    await Promise.all(this.idle.map((s) => s.promise));
    await this.writing;
    await Promise.all(this.hashers.map(([, h]) => h.stop()));
  }

  private dispatch(): void {
    const slot = this.current;
    const offset = slot * SLOT_BYTES;
    const length = this.filled;
    this.busy[slot] = 1 + this.hashers.length;
    this.idle[slot] = pending();
    const position = this.size;
    this.writing = this.writing.then(() =>
      this.writer.write(this.view.subarray(offset, offset + length), position).then(
        () => this.release(slot),
        (err: Error) => {
          this.fail(err);
          this.release(slot);
        },
      ),
    );
    for (const [, h] of this.hashers) h.hash(slot, offset, length);
    this.size += length;
    this.current = (slot + 1) % SLOTS;
    this.filled = 0;
  }

  private release(slot: number): void {
    if (--this.busy[slot]! === 0) this.idle[slot]!.resolve();
  }

  /** A failed write or hash thread ends the upload; nothing waits for it any more. */
  private fail(err: Error): void {
    this.failure ??= err;
    for (let slot = 0; slot < SLOTS; slot++) {
      this.busy[slot] = 0;
      this.idle[slot]!.resolve();
    }
  }
}

function pending(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function settled() {
  const p = pending();
  p.resolve();
  return p;
}
