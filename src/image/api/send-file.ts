import { readSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import type { FileHandle } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Bytes per read and per socket write; a download holds two such buffers and reuses them: fresh
 * buffers cost the kernel's page faults and zeroing for every MiB, as much again as the copies. */
const CHUNK = 1024 * 1024;
const BUFFERS = 2;
/** A read from the page cache is a memory copy, well under a millisecond; reads that take this
 * long and made the process read from the disk, several in a row, move the rest of the download
 * to the thread pool, where waiting for the disk stalls no other request. A slow read that read
 * nothing from the disk is the scheduler giving the CPU to others on a busy machine, where the
 * pool only adds two thread wake-ups per MiB, each waiting for a time slice. */
const SLOW_READ_MS = 20;
const SLOW_READS = 3;

/**
 * Sends bytes `start` to `end` inclusive of an open file as the reply's body, then closes it.
 * Node has no sendfile for sockets; the fewest hops it allows are a read on the event loop
 * straight into a reused buffer, then a write of that buffer to the socket, which the kernel takes
 * at once while its send buffer has room. No thread is woken per MiB, which matters most on a busy
 * machine, where each wake-up waits for a time slice. Between batches the loop yields to other
 * requests, and when the socket is full it waits for it to drain.
 */
export function sendFile(reply: FastifyReply, file: FileHandle, start: number, end: number): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  const free = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(Math.min(CHUNK, end + 1 - start)));
  let next = start;
  /** Slow reads in a row. */
  let slowReads = 0;
  /** Waiting for the socket to drain, for a read in the pool, or for the next turn of the loop. */
  let waiting = false;
  let done = false;

  const finish = (err?: Error) => {
    if (done) return;
    done = true;
    void file.close().catch(() => {});
    if (err) res.destroy(err);
  };
  // The client went away, or the last byte went out.
  res.once('close', () => finish());
  if (reply.request.method === 'HEAD' || start > end) {
    res.end();
    return finish();
  }

  const resume = () => {
    waiting = false;
    pump();
  };
  /** Hands a filled buffer to the socket; false when the loop must wait before it goes on. */
  const send = (buffer: Buffer<ArrayBuffer>, got: number, length: number): boolean => {
    if (got < length) {
      finish(new Error('the image file ended before its size'));
      return false;
    }
    next += got;
    const last = next > end;
    const sent = res.write(got < buffer.length ? buffer.subarray(0, got) : buffer, (err) => {
      free.push(buffer);
      if (!err && !waiting && !done) {
        waiting = true;
        setImmediate(resume);
      }
    });
    if (last) {
      res.end();
      finish();
      return false;
    }
    if (!sent) {
      waiting = true;
      res.once('drain', resume);
    }
    return sent;
  };

  const pump = () => {
    while (!done && !waiting && free.length) {
      const buffer = free.pop()!;
      const length = Math.min(buffer.length, end + 1 - next);
      if (slowReads >= SLOW_READS) {
        waiting = true;
        // The handle's own read: its close waits for the read, whenever the client goes.
        return void file.read(buffer, 0, length, next).then(({ bytesRead }) => {
          if (done) return;
          waiting = false;
          if (send(buffer, bytesRead, length)) pump();
        }, finish);
      }
      const began = performance.now();
      const blockReads = resourceUsage().fsRead;
      let got: number;
      try {
        got = readSync(file.fd, buffer, 0, length, next);
      } catch (err) {
        return finish(err as Error);
      }
      // The process's block reads (getrusage's count, a microsecond to ask) tell a wait for the
      // disk from a wait for the CPU.
      const slow = performance.now() - began > SLOW_READ_MS && resourceUsage().fsRead > blockReads;
      slowReads = slow ? slowReads + 1 : 0;
      if (!send(buffer, got, length)) return;
    }
  };
  pump();
}
