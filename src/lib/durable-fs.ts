import { open, stat, type FileHandle } from 'node:fs/promises';

/** Whether path exists; any error but its absence is thrown, not taken for a no. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** fsync of a file or a directory (a rename is durable once its directory is synced). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of data at position: one write may take only part of it. */
export async function writeAll(file: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length;) done += (await file.write(data, done, data.length - done, position + done)).bytesWritten;
}
