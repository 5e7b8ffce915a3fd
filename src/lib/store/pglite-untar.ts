import { closeSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const BLOCK = 512;
/** Files are copied through one buffer of this size: the archive holds 16 MiB files (WAL). */
const COPY = 1024 * 1024;

/**
 * Unpacks the build's template (an uncompressed ustar archive of a data directory, as PGlite
 * dumps one) into dir, one file at a time. PGlite's own loadDataDir holds the whole archive and
 * its files in memory and peaks near 400 MiB; unpacked here, a new database costs what opening an
 * existing one does.
 */
export function untarTemplate(archive: string, dir: string): void {
  const fd = openSync(archive, 'r');
  try {
    const header = Buffer.alloc(BLOCK);
    const copy = Buffer.allocUnsafe(COPY);
    for (let at = 0; readSync(fd, header, 0, BLOCK, at) === BLOCK; ) {
      at += BLOCK;
      // Two zero blocks end the archive; one is enough to stop at.
      if (header.every((b) => b === 0)) return;
      const field = (start: number, length: number) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
      const prefix = field(345, 155);
      const name = normalize((prefix ? `${prefix}/` : '') + field(0, 100)).replace(/^\/+/, '');
      const size = parseInt(field(124, 12).trim() || '0', 8);
      const type = field(156, 1) || '0';
      if (name.startsWith('..')) throw new Error(`the database template names a path outside its directory: ${name}`);
      const target = join(dir, name);
      if (type === '5') mkdirSync(target, { recursive: true, mode: 0o700 });
      else if (type === '0') {
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        const out = openSync(target, 'wx', 0o600);
        try {
          for (let done = 0; done < size; ) {
            const n = readSync(fd, copy, 0, Math.min(COPY, size - done), at + done);
            if (n === 0) throw new Error('the database template ends in the middle of a file');
            writeSync(out, copy, 0, n);
            done += n;
          }
        } finally {
          closeSync(out);
        }
      } else throw new Error(`the database template holds an entry of type ${type}: ${name}`);
      at += Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    closeSync(fd);
  }
}
