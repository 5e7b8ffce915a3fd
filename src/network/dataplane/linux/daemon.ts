import { readFile, rm } from 'node:fs/promises';

// dnsmasq and the metadata proxies run daemonized, outside Nubo's process tree, so that they
// outlive a restart of Nubo; each is found again through its pid file and recognised by its
// command line in /proc, never through a child-process handle.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The arguments of a live process; undefined once it is gone (a zombie has an empty cmdline). */
export async function cmdlineOf(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return text ? text.replace(/\0$/, '').split('\0') : undefined;
}

/** The pid in the pid file, if that process lives and its command line is the one expected: a
 * pid file outlives its process and may name a recycled pid. */
export async function livePid(pidfile: string, isOurs: (args: string[]) => boolean): Promise<{ pid: number; args: string[] } | undefined> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const args = await cmdlineOf(pid);
  return args && isOurs(args) ? { pid, args } : undefined;
}

/** SIGTERM, then SIGKILL if the process is still there after timeoutMs. */
export async function killAndWait(pid: number, timeoutMs = 3000): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw err;
    }
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (!(await cmdlineOf(pid))) return;
      await sleep(20);
    }
  }
  throw new Error(`process ${pid} did not die`);
}

/** Stops the daemon of this pid file, if it runs, and removes the file. */
export async function stopDaemon(pidfile: string, isOurs: (args: string[]) => boolean): Promise<void> {
  const live = await livePid(pidfile, isOurs);
  if (live) await killAndWait(live.pid);
  await rm(pidfile, { force: true });
}
