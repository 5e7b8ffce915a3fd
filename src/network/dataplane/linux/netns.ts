import { readdir } from 'node:fs/promises';
import type { Shell } from './host.ts';
import { killAndWait } from './daemon.ts';

/** The named network namespaces on this machine: the names under /run/netns, where `ip netns`
 * keeps them (read here rather than through `ip netns list`, which costs a process). */
export async function listNamespaces(): Promise<string[]> {
  return readdir('/run/netns').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/** Makes the namespace if it is not there, with its loopback up (a new one has it down). */
export async function ensureNamespace(sh: Shell, name: string): Promise<void> {
  if (!(await listNamespaces()).includes(name)) await sh.machine(['ip', 'netns', 'add', name]);
  await sh.in(name, ['ip', 'link', 'set', 'lo', 'up']);
}

/**
 * Removes a namespace and everything in it: its veths go with it (and their peers on the host's
 * bridges), and any process still inside is killed first, for a process would keep the
 * namespace alive after its name is gone.
 */
export async function deleteNamespace(sh: Shell, name: string): Promise<void> {
  if (!(await listNamespaces()).includes(name)) return;
  const { stdout } = await sh.machine(['ip', 'netns', 'pids', name]);
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) await killAndWait(pid);
  await sh.machine(['ip', 'netns', 'del', name]);
}
