import { pooledHash, type PooledHash } from './hash-pool.ts';
import type { StoreWriter } from './stores/store.ts';

/** Slots of the ring an upload goes through; a slot is written to the store once full. */
const SLOT_BYTES = 1024 * 1024;
const SLOTS = 4;

/** Rings of ended uploads, for the next ones. A ring shared with the hash threads is freed only
 * once their garbage collector runs, which a thread that allocates little rarely does: a new ring
 * per upload piled up (1,000 small uploads, 8 at a time, held 1.6 GiB). */
const spareRings: SharedArrayBuffer[] = [];
const SPARE_RINGS = 8;

export interface Spooled {
  size: number;
  /** Hex digests by algorithm. */
  digests: Record<string, string>;
}

/**
 * Carries an upload to a store writer while hashing it, in bounded memory. Chunks are copied once,
 * into a small ring shared with the hash pool; each full slot is written to the store straight
 * from the ring while pool threads hash it, one thread per algorithm, and write() waits when every
 * slot is still busy, which holds back the network. The event loop only receives, copies and
 * hands each full slot to the inspector.
 */
export class Spool {
  private readonly ring: SharedArrayBuffer;
  private readonly view: Buffer;
  private closed = false;
  private readonly busy: number[] = new Array(SLOTS).fill(0);
  private readonly idle: { promise: Promise<void>; resolve: () => void }[] = [];
  private readonly hashes: [string, PooledHash][];
  private current = 0;
  private filled = 0;
  private size = 0;
  private failure?: Error;
  /** Writes go one after the other: concurrent writes to one file only contend for its lock. */
  private writing: Promise<void> = Promise.resolve();

  /** `inspect` sees each slot's bytes before they are written or hashed, in order, and may throw
   * to stop the upload: given 1 MiB at a time rather than each 64 KiB the socket hands over, it
   * costs the event loop a sixteenth of the calls. */
  constructor(
    private readonly writer: StoreWriter,
    algorithms: string[],
    private readonly inspect: (bytes: Buffer) => void,
  ) {
    this.ring = spareRings.pop() ?? new SharedArrayBuffer(SLOT_BYTES * SLOTS);
    this.view = Buffer.from(this.ring);
    for (let i = 0; i < SLOTS; i++) this.idle.push(settled());
    this.hashes = algorithms.map((a) => [a, pooledHash(a, this.ring)]);
  }

  /** Copies a chunk in; a promise only when the ring is full and the caller must wait for it
   * (most chunks go in at once, and an await per 64 KiB chunk is a cost of its own). */
  write(chunk: Buffer): Promise<void> | undefined {
    for (let at = 0; at < chunk.length;) {
      if (this.busy[this.current]) return this.idle[this.current]!.promise.then(() => this.write(chunk.subarray(at)));
      if (this.failure) throw this.failure;
      const n = chunk.copy(this.view, this.current * SLOT_BYTES + this.filled, at, at + Math.min(chunk.length - at, SLOT_BYTES - this.filled));
      this.filled += n;
      at += n;
      if (this.filled === SLOT_BYTES) this.dispatch();
    }
    return undefined;
  }

  /** Flushes the last slot and waits for every write and hash: the size and the digests. */
  async end(): Promise<Spooled> {
    if (this.filled > 0) this.dispatch();
    await Promise.all(this.idle.map((s) => s.promise));
    if (this.failure) throw this.failure;
    const digests: Record<string, string> = {};
    for (const [algorithm, hash] of this.hashes) digests[algorithm] = await hash.digest();
    return { size: this.size, digests };
  }

  /** Lets the pool go once no write is in flight any more; call it whatever happened. */
  async close(): Promise<void> {
    await Promise.all(this.idle.map((s) => s.promise));
    await this.writing;
    for (const [, hash] of this.hashes) hash.drop();
    if (this.closed) return;
    this.closed = true;
    // Whatever a dropped hash still reads from the ring is ignored; the writes are done.
    if (spareRings.length < SPARE_RINGS) spareRings.push(this.ring);
  }

  private dispatch(): void {
    const slot = this.current;
    const offset = slot * SLOT_BYTES;
    const length = this.filled;
    this.inspect(this.view.subarray(offset, offset + length));
    this.busy[slot] = 1 + this.hashes.length;
    this.idle[slot] = pending();
    const done = () => this.release(slot);
    const failed = (err: Error) => {
      this.fail(err);
      this.release(slot);
    };
    const position = this.size;
    this.writing = this.writing.then(() => this.writer.write(this.view.subarray(offset, offset + length), position).then(done, failed));
    for (const [, hash] of this.hashes) hash.update(offset, length).then(done, failed);
    this.size += length;
    this.current = (slot + 1) % SLOTS;
    this.filled = 0;
  }

  private release(slot: number): void {
    if (this.busy[slot]! > 0 && --this.busy[slot]! === 0) this.idle[slot]!.resolve();
  }

  /** A failed write or hash ends the upload; nothing waits for it any more. */
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
