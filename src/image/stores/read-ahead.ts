import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Reads of this size, several at once: the thread pool reads ahead while the event loop sends,
 * so that a busy machine's late thread wake-up rarely leaves the socket with nothing to send. */
const CHUNK = 1024 * 1024;
const DEPTH = 4;

interface Pending {
  data?: Buffer;
}

/**
 * A file's bytes from `start` to `end` inclusive, with up to DEPTH reads in flight and delivered
 * in order; at most 2 × CHUNK × DEPTH bytes are held. The file is closed with the stream.
 */
export class ReadAhead extends Readable {
  private next: number;
  private readonly queue: Pending[] = [];
  private wanted = true;
  private ended = false;

  constructor(
    private readonly file: FileHandle,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: CHUNK * DEPTH });
    this.next = start;
  }

  override _read(): void {
    this.wanted = true;
    this.fill();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // A FileHandle waits for its reads in flight before it closes.
    this.file.close().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }

  private fill(): void {
    while (this.wanted && !this.destroyed && this.queue.length < DEPTH && this.next <= this.end) {
      const length = Math.min(CHUNK, this.end + 1 - this.next);
      const entry: Pending = {};
      this.queue.push(entry);
      this.file.read(Buffer.allocUnsafeSlow(length), 0, length, this.next).then(
        ({ buffer, bytesRead }) => {
          if (bytesRead < length) return this.destroy(new Error('the file ended before the image size'));
          entry.data = buffer;
          this.deliver();
        },
        (err: Error) => this.destroy(err),
      );
      this.next += length;
    }
    if (!this.queue.length && this.next > this.end && !this.ended) {
      this.ended = true;
      this.push(null);
    }
  }

  /** Hands over the reads that are done, in file order. */
  private deliver(): void {
    while (this.queue[0]?.data && !this.destroyed) this.wanted = this.push(this.queue.shift()!.data);
    this.fill();
  }
}
