import { readFile } from 'node:fs/promises';

// A guest's qemu runs daemonized, outside Nubo's process tree: it is found through its pidfile
// and recognised through /proc, never through a child-process handle.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether pid is the live qemu of this guest: a pidfile can outlive its process and name a
 * recycled pid, and an exited, unreaped process (a zombie) has an empty cmdline. */
export async function isGuestQemu(pid: number, uuid: string): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const at = args.indexOf('-uuid');
  return at >= 0 && args[at + 1] === uuid;
}

/** The pid of the guest's running qemu, from its pidfile, if that process really is it. */
export async function guestPid(pidfile: string, uuid: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && (await isGuestQemu(pid, uuid)) ? pid : undefined;
}

/** Waits until the guest's qemu is gone; false if it is still there after timeoutMs. */
export async function waitGone(pid: number, uuid: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (await isGuestQemu(pid, uuid)) {
    if (Date.now() >= end) return false;
    await sleep(50);
  }
  return true;
}

export function killHard(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // Already gone between the check and the kill.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
