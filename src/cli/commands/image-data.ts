import { createReadStream, fstatSync, openSync } from 'node:fs';
import { ClientError } from '../../client/errors.ts';

/** Where `image create` and `image stage` read the data from: --file, or stdin when it is redirected, as
 * openstackclient does; nothing when stdin is a terminal or closed. */
export function dataSource(file: string | undefined): { stream: AsyncIterable<Uint8Array>; size?: number } | undefined {
  if (file) {
    // Opened now, so that a file that cannot be read fails the command before the image exists.
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new ClientError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ClientError(`Cannot read ${file}: it is a directory`);
    // Devices and pipes have no size to announce.
    return { stream: createReadStream(file, { fd }), size: stat.isFile() ? stat.size : undefined };
  }
  let stdin;
  try {
    stdin = fstatSync(0);
  } catch {
    return undefined;
  }
  if (process.stdin.isTTY) return undefined;
  return { stream: process.stdin, size: stdin.isFile() ? stdin.size : undefined };
}
