import { rm, stat } from 'node:fs/promises';
import { cont, queryStatus, stop, withQmp, type Qmp } from './qmp.ts';

// A suspended guest: its memory and device state written by qemu's own migration into a file in
// the guest's directory, as libvirt's managed save does for Nova, and its process ended. A
// restore is an incoming migration from that file into a new qemu with the same command line.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A path as one word for /bin/sh, which runs qemu's exec: migration commands. */
const shellWord = (path: string) => `'${path.replaceAll("'", `'\\''`)}'`;

/** Far above what a local disk takes: qemu's default cap (32 MiB/s) would only slow the save. */
const MAX_BANDWIDTH = 16 * 2 ** 30;

async function untilMigrated(q: Qmp, deadline: number): Promise<void> {
  for (;;) {
    const m = await q.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (m.status === 'completed') return;
    if (m.status === 'failed' || m.status === 'cancelled') throw new Error(`saving the guest's memory ${m.status}: ${m['error-desc'] ?? 'no reason given'}`);
    if (Date.now() > deadline) throw new Error(`saving the guest's memory took longer than allowed`);
    await sleep(100);
  }
}

/**
 * Writes the running guest's state to `file` and leaves its qemu stopped (the caller ends it).
 * The file appears under its name only once whole: a crash half-way leaves the guest as it was.
 */
export async function saveState(qmpSocket: string, file: string, timeoutMs = 600_000): Promise<void> {
  const part = `${file}.part`;
  await rm(part, { force: true });
  await withQmp(qmpSocket, async (q) => {
    // The vCPUs stopped first: memory no longer changes, so it goes out in a single pass.
    await stop(q);
    await q.execute('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH });
    await q.execute('migrate', { uri: `exec:cat > ${shellWord(part)} && mv ${shellWord(part)} ${shellWord(file)}` });
    await untilMigrated(q, Date.now() + timeoutMs);
  });
  // qemu is done writing when it says completed; the shell's rename follows cat's exit.
  for (const deadline = Date.now() + 30_000; !(await stat(file).catch(() => undefined)); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`the guest's saved state ${file} did not appear`);
  }
}

/** Loads `file` into a qemu started with `-incoming defer`, and lets the guest run on. */
export async function loadState(qmpSocket: string, file: string, timeoutMs = 600_000): Promise<void> {
  await withQmp(qmpSocket, async (q) => {
    await q.execute('migrate-incoming', { uri: `exec:cat ${shellWord(file)}` });
    const deadline = Date.now() + timeoutMs;
    let status: string;
    while ((status = await queryStatus(q)) === 'inmigrate') {
      if (Date.now() > deadline) throw new Error(`restoring the guest's memory took longer than allowed`);
      await sleep(100);
    }
    // The guest was stopped when saved, so it comes back paused.
    if (status !== 'running') await cont(q);
  });
}
