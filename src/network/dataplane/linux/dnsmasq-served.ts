import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { DnsmasqFiles } from './dnsmasq.ts';

// What a running dnsmasq answers for: it re-reads its hosts file on SIGHUP, but a signal is only
// a request, so a reload counts once dnsmasq's log says it read the file. The text it read and its
// pid are then kept beside the file, so that later calls (of this process or the next) know what
// it serves, also while a newer file waits for its reload.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const servedFile = (files: DnsmasqFiles) => `${files.hosts}.served`;

/** Where dnsmasq's log ends now: what it writes after a signal starts there. */
export const logEnd = async (files: DnsmasqFiles) => (await stat(files.log).catch(() => undefined))?.size ?? 0;

/** The log's text from offset on. */
async function logSince(files: DnsmasqFiles, offset: number): Promise<string> {
  const fh = await open(files.log, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.max(0, size - offset));
    await fh.read(buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Waits until dnsmasq `pid` logs, after offset, that it read the hosts file (at its start, or on
 * SIGHUP), then records that it serves the leases of hostsText. Throws if it could not read the
 * file, or says nothing within timeoutMs.
 */
export async function awaitHostsRead(files: DnsmasqFiles, pid: number, offset: number, hostsText: string, timeoutMs = 5000): Promise<void> {
  const read = `[${pid}]: read ${files.hosts}\n`;
  const failed = `[${pid}]: cannot read ${files.hosts}`;
  for (const end = Date.now() + timeoutMs; ; await sleep(5)) {
    const log = await logSince(files, offset);
    if (log.includes(read)) break;
    const error = log.split('\n').find((l) => l.includes(failed));
    if (error) throw new Error(`dnsmasq ${pid}: ${error.slice(error.indexOf(']: ') + 3)}`);
    if (Date.now() > end) throw new Error(`dnsmasq ${pid} did not read ${files.hosts} within ${timeoutMs} ms`);
  }
  await writeFile(`${servedFile(files)}.part`, JSON.stringify({ pid, hosts: hostsText }) + '\n');
  await rename(`${servedFile(files)}.part`, servedFile(files));
}

/** The hosts text dnsmasq `pid` last read, as awaitHostsRead saw it; undefined if unknown. */
export async function servedHosts(files: DnsmasqFiles, pid: number): Promise<string | undefined> {
  const served = await readFile(servedFile(files), 'utf8')
    .then((t) => JSON.parse(t) as { pid: number; hosts: string })
    .catch(() => undefined);
  return served?.pid === pid ? served.hosts : undefined;
}
