import { open } from 'node:fs/promises';

/** A serial console grows as long as the guest writes to it: reading stops at its last MiB. */
const MAX_BYTES = 1 << 20;

/** The last `lines` lines of a console log file (as much as MAX_BYTES holds when omitted); ''
 * when there is no log yet. */
export async function tailConsole(path: string, lines?: number): Promise<string> {
  if (lines !== undefined && lines <= 0) return '';
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!file) return '';
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await file.read(buf, 0, buf.length, start);
    let text = buf.subarray(0, bytesRead).toString('utf8');
    // A read that starts mid-file starts mid-line: that partial line is dropped.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    if (lines === undefined || !text) return text;
    const all = text.split('\n');
    const complete = all.at(-1) === '';
    if (complete) all.pop();
    return all.slice(-lines).join('\n') + (complete ? '\n' : '');
  } finally {
    await file.close();
  }
}
