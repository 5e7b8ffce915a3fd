// Each load balancer as an HAProxy in a network namespace of its own, `<prefix>-qlb-<id>`, whose
// VIP device is one end of a veth; the other end, named as the VIP port's tap would be, stays
// with the host's devices, where the network agent plugs it into the network's bridge as it plugs
// a server's tap (security groups and all). A leg on each member subnet other than the VIP's is
// wired the same way, without a route beyond its subnet. HAProxy runs daemonized, outside Nubo's
// process tree, so that traffic keeps flowing while Nubo restarts; it is found again through its
// pid file.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import { tapName } from '../../network/dataplane/driver.ts';
import { livePid } from '../../network/dataplane/linux/daemon.ts';
import { createShell, type Shell } from '../../network/dataplane/linux/host.ts';
import { ip, setAddresses } from '../../network/dataplane/linux/links.ts';
import { deleteNamespace, ensureNamespace, listNamespaces } from '../../network/dataplane/linux/netns.ts';
import { PING_SCRIPT, renderConfig } from '../haproxy/config.ts';
import { readStats } from '../haproxy/stats.ts';
import type { Leg, LbDataplane } from './driver.ts';

export interface LinuxLbOptions {
  /** The namespace standing for the host, as the network data plane's. */
  hostNetns?: string;
  /** Starts the name of every namespace this cloud makes. */
  prefix: string;
  /** Where each load balancer's configuration, pid file and stats socket go. */
  stateDir: string;
  log: Logger;
}

/** The device inside the namespace that holds a port's address (the VIP's or a leg's). */
const legDevice = (portId: string) => `lb-${portId.slice(0, 11)}`;

interface Device {
  ifname: string;
  address?: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind?: string };
}

async function device(sh: Shell, netns: string | undefined, name: string): Promise<Device | undefined> {
  const { stdout, code } = await ip(sh, netns, ['-json', '-details', 'link', 'show', 'dev', name], [0, 1]);
  return code === 0 ? (JSON.parse(stdout) as Device[])[0] : undefined;
}

export function createLinuxLbDataplane(opts: LinuxLbOptions): LbDataplane {
  const sh = createShell(opts.hostNetns, opts.log);
  const nsPrefix = `${opts.prefix}-qlb-`;
  const nsOf = (id: string) => `${nsPrefix}${id}`;
  const files = (id: string) => {
    const dir = join(opts.stateDir, id);
    return { dir, cfg: join(dir, 'haproxy.cfg'), pid: join(dir, 'haproxy.pid'), sock: join(dir, 'stats.sock'), ping: join(dir, 'ping.sh') };
  };
  const isOurs = (cfg: string) => (args: string[]) => /haproxy$/.test(args[0] ?? '') && args.includes(cfg);

  /** The veth whose inside end holds a port's address: a pair with an end missing, or a tap the
   * network agent made before this leg existed, is made again. Returns whether it was made now. */
  async function ensureLeg(ns: string, vip: Leg & { gateway?: string }): Promise<boolean> {
    const [outName, inName] = [tapName(vip.portId), legDevice(vip.portId)];
    let [outside, inside] = await Promise.all([device(sh, undefined, outName), device(sh, ns, inName)]);
    let made = false;
    if (!inside || !outside || outside.linkinfo?.info_kind !== 'veth') {
      if (inside) await ip(sh, ns, ['link', 'del', inName]);
      if (outside) await ip(sh, undefined, ['link', 'del', outName]);
      await ip(sh, undefined, ['link', 'add', outName, 'mtu', String(vip.mtu), 'type', 'veth', 'peer', 'name', inName, 'netns', ns]);
      [inside, made] = [undefined, true];
    }
    if (inside?.address?.toLowerCase() !== vip.mac.toLowerCase() || inside.mtu !== vip.mtu || !inside.flags.includes('UP')) {
      await ip(sh, ns, ['link', 'set', inName, 'address', vip.mac, 'mtu', String(vip.mtu), 'up']);
    }
    await setAddresses(sh, ns, inName, vip.addresses);
    if (vip.gateway) await ip(sh, ns, ['route', 'replace', 'default', 'via', vip.gateway, 'dev', inName]);
    return made;
  }

  return {
    async ensure(spec) {
      const ns = nsOf(spec.id);
      const f = files(spec.id);
      await ensureNamespace(sh, ns);
      const unplugged: string[] = [];
      for (const leg of [spec.vip, ...spec.legs]) if (await ensureLeg(ns, leg)) unplugged.push(leg.portId);
      // Legs no longer given: deleting the inside end takes the pair.
      const wanted = new Set([spec.vip, ...spec.legs].map((l) => legDevice(l.portId)));
      const { stdout } = await ip(sh, ns, ['-json', 'link', 'show']);
      for (const d of JSON.parse(stdout) as Device[]) if (d.ifname.startsWith('lb-') && !wanted.has(d.ifname)) await ip(sh, ns, ['link', 'del', d.ifname]);
      await mkdir(f.dir, { recursive: true, mode: 0o700 });
      const text = renderConfig({ ...spec.config, statsSocket: f.sock, pingScript: f.ping });
      const before = await readFile(f.cfg, 'utf8').catch(() => undefined);
      if (spec.config.pools.some((p) => p.monitor?.type === 'PING')) await writeFile(f.ping, PING_SCRIPT, { mode: 0o700 });
      // Written aside and checked before it replaces the running one: a configuration HAProxy
      // refuses must never take down the one that serves.
      if (before !== text) {
        await writeFile(`${f.cfg}.new`, text);
        await sh.in(ns, ['haproxy', '-c', '-q', '-f', `${f.cfg}.new`]);
        await writeFile(f.cfg, text);
        await rm(`${f.cfg}.new`, { force: true });
      }
      const live = await livePid(f.pid, isOurs(f.cfg));
      if (!live) {
        await sh.in(ns, ['haproxy', '-D', '-p', f.pid, '-f', f.cfg]);
      } else if (before !== text) {
        // The new process takes the listening sockets over the stats socket (-x) and the old one
        // finishes its connections (-sf): nothing established is cut, nothing new refused.
        await sh.in(ns, ['haproxy', '-D', '-p', f.pid, '-f', f.cfg, '-x', f.sock, '-sf', String(live.pid)]);
      }
      return { unplugged, started: !live || before !== text };
    },
    async remove(id) {
      await deleteNamespace(sh, nsOf(id));
      await rm(files(id).dir, { recursive: true, force: true });
    },
    async stats(id) {
      const f = files(id);
      if (!(await livePid(f.pid, isOurs(f.cfg)))) return undefined;
      return readStats(f.sock).catch(() => undefined);
    },
    async inventory() {
      return (await listNamespaces()).filter((n) => n.startsWith(nsPrefix)).map((n) => n.slice(nsPrefix.length));
    },
  };
}
