import type { Shell } from './host.ts';
import { killAndWait } from './daemon.ts';

/** The named network namespaces on this machine. */
export async function listNamespaces(sh: Shell): Promise<string[]> {
  const { stdout } = await sh.machine(['ip', '-json', 'netns', 'list']);
  return stdout.trim() ? (JSON.parse(stdout) as { name: string }[]).map((n) => n.name) : [];
}

/** Makes the namespace if it is not there, with its loopback up (a new one has it down). */
export async function ensureNamespace(sh: Shell, name: string): Promise<void> {
  if (!(await listNamespaces(sh)).includes(name)) await sh.machine(['ip', 'netns', 'add', name]);
  await sh.in(name, ['ip', 'link', 'set', 'lo', 'up']);
}

/**
 * Removes a namespace and everything in it: its veths go with it (and their peers on the host's
 * bridges), and any process still inside is killed first, for a process would keep the
 * namespace alive after its name is gone.
 */
export async function deleteNamespace(sh: Shell, name: string): Promise<void> {
  if (!(await listNamespaces(sh)).includes(name)) return;
  const { stdout } = await sh.machine(['ip', 'netns', 'pids', name]);
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) await killAndWait(pid);
  await sh.machine(['ip', 'netns', 'del', name]);
}
