import { run } from '../host/run.ts';
import type { Logger } from '../log.ts';

/** What a client that is not given the ceph.conf (a guest's qemu) needs to reach the cluster. */
export interface CephClientAuth {
  /** The monitors as host:port, the v2 address where a monitor has both. */
  monitors: string[];
  /** The user's cephx key, base64 as its keyring holds it. */
  key: string;
}

/** A monitor's `host:port` (a bare host: Ceph's default port) split as qemu's and Cinder's
 * connection descriptions take it. */
export function monitorAddress(monitor: string): { host: string; port: string } {
  const at = monitor.lastIndexOf(':');
  return at > 0 ? { host: monitor.slice(0, at), port: monitor.slice(at + 1) } : { host: monitor, port: '6789' };
}

/**
 * The monitors of a ceph.conf and a user's key from the keyring that ceph.conf names for it, read
 * with Ceph's own tools (ceph-conf expands `$name` and the defaults; ceph-authtool reads keyrings).
 */
export async function clientAuth(conf: string, user: string, log?: Logger): Promise<CephClientAuth> {
  const lookup = async (key: string) => (await run(['ceph-conf', '-c', conf, '--name', `client.${user}`, '--lookup', key], { log })).stdout.trim();
  const monitors = parseMonHost(await lookup('mon_host'));
  if (!monitors.length) throw new Error(`${conf} names no monitors (mon_host)`);
  const keyrings = (await lookup('keyring')).split(',').map((k) => k.trim());
  for (const keyring of keyrings) {
    const found = await run(['ceph-authtool', '-p', '-n', `client.${user}`, keyring], { log }).catch(() => undefined);
    if (found?.stdout.trim()) return { monitors, key: found.stdout.trim() };
  }
  throw new Error(`no key for client.${user} in the keyrings ${conf} names (${keyrings.join(', ')})`);
}

/** mon_host in any of its forms: `a,b`, `a:6789 b`, `[v2:a:3300,v1:a:6789],[v2:b:3300]`. */
export function parseMonHost(text: string): string[] {
  const monitors: string[] = [];
  for (const group of text.match(/\[[^\]]*\]|[^,;\s[\]]+/g) ?? []) {
    const addrs = group
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    const chosen = addrs.find((a) => a.startsWith('v2:')) ?? addrs[0];
    if (chosen) monitors.push(chosen.replace(/^v[12]:/, '').replace(/\/\d+$/, ''));
  }
  return monitors;
}
