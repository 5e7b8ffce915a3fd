import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const sh = (...argv: string[]) => run(argv[0]!, argv.slice(1), { timeout: 30_000 });
export const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);
/** One ping (busybox's: the machine may have no iputils), true when answered. */
export const pings = (ns: string, ip: string, ...extra: string[]) =>
  inNs(ns, 'busybox', 'ping', '-c1', '-W1', ...extra, ip).then(
    () => true,
    () => false,
  );

/**
 * A network namespace standing for the host of a cloud under test (bridges, taps, guests and the
 * "outside" br-ex live in it), named `nubo-<tag><random>`, which the cloud also uses to name its
 * router and DHCP namespaces. cleanup() kills what runs in any of them and deletes them all.
 */
export async function hostNamespace(tag: string) {
  const name = `nubo-${tag}${randomBytes(3).toString('hex')}`;
  await sh('ip', 'netns', 'add', name);
  await inNs(name, 'ip', 'link', 'set', 'lo', 'up');
  const extra: string[] = [];
  return {
    name,
    /** Another namespace, for an endpoint that stands for a guest; `ip netns exec` in it sees an
     * empty resolv.conf of its own, so a DHCP hook never writes the host's. */
    async endpoint(suffix: string) {
      const ns = `${name}-${suffix}`;
      await sh('ip', 'netns', 'add', ns);
      await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/resolv.conf`, '');
      extra.push(ns);
      return ns;
    },
    /** The namespaces of this prefix that exist now. */
    async list() {
      const { stdout } = await sh('ip', 'netns', 'list');
      return stdout
        .split('\n')
        .map((l) => l.split(' ')[0]!)
        .filter((ns) => ns.startsWith(name));
    },
    async cleanup() {
      const { stdout } = await sh('ip', 'netns', 'list').catch(() => ({ stdout: '' }));
      for (const ns of stdout.split('\n').map((l) => l.split(' ')[0]!)) {
        if (!ns.startsWith(name)) continue;
        const pids = (await sh('ip', 'netns', 'pids', ns).catch(() => ({ stdout: '' }))).stdout.trim();
        if (pids) await sh('kill', '-9', ...pids.split(/\s+/)).catch(() => undefined);
        await sh('ip', 'netns', 'del', ns).catch(() => undefined);
      }
      for (const ns of extra) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
      rmSync(`/run/nubo/${name}`, { recursive: true, force: true });
    },
  };
}

/** Polls until check holds, or fails with what was awaited. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** True when check stays false for the whole period: how a drop is shown. */
export async function never(check: () => Promise<boolean>, forMs = 2500): Promise<boolean> {
  const end = Date.now() + forMs;
  while (Date.now() < end) if (await check()) return false;
  return true;
}
