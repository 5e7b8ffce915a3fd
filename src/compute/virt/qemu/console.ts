import { open } from 'node:fs/promises';

/** A serial console grows as long as the guest writes to it: reading stops at its last MiB. */
const MAX_BYTES = 1 << 20;

/** The end of a file, whole lines only, as much as MAX_BYTES holds; '' when there is no file. */
async function tailOf(path: string): Promise<string> {
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
    const text = buf.subarray(0, bytesRead).toString('utf8');
    // A read that starts mid-file starts mid-line: that partial line is dropped.
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await file.close();
  }
}

/** The last `lines` lines of console log files read one after the other (as much as MAX_BYTES of
 * each holds when omitted); '' when there is no log yet. */
export async function tailConsole(paths: string[], lines?: number): Promise<string> {
  if (lines !== undefined && lines <= 0) return '';
  let text = '';
  for (const path of paths) {
    const part = await tailOf(path);
    // Each file's lines start on a line of their own.
    text += text && part && !text.endsWith('\n') ? `\n${part}` : part;
  }
  if (lines === undefined || !text) return text;
  const all = text.split('\n');
  const complete = all.at(-1) === '';
  if (complete) all.pop();
  return all.slice(-lines).join('\n') + (complete ? '\n' : '');
}
