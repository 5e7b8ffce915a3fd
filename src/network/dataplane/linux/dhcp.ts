import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DhcpSpec } from '../driver.ts';
import { networkRecord } from './bridge.ts';
import type { Context } from './context.ts';
import { killAndWait, livePid, stopDaemon } from './daemon.ts';
import { dnsmasqArgv, hostsFile, METADATA_IP, optsFile, parseHostsFile, type DnsmasqFiles } from './dnsmasq.ts';
import { awaitHostsRead, logEnd, servedHosts } from './dnsmasq-served.ts';
import { ensureLeg, ip, links } from './links.ts';
import { ensureMetadataEndpoint, stopMetadataEndpoint } from './metadata.ts';
import { dhcpLeg, namespaces } from './names.ts';
import { deleteNamespace, ensureNamespace, listNamespaces } from './netns.ts';

// One dnsmasq per network, in the network's DHCP namespace on a veth from the network's bridge,
// with the network's metadata endpoint beside it.

const dirOf = (ctx: Context, networkId: string) => join(ctx.stateDir, 'dhcp', networkId);

const filesOf = (dir: string): DnsmasqFiles => ({
  pidfile: join(dir, 'dnsmasq.pid'),
  hosts: join(dir, 'hosts'),
  opts: join(dir, 'opts'),
  leases: join(dir, 'leases'),
  log: join(dir, 'dnsmasq.log'),
});

const isDnsmasqOf = (files: DnsmasqFiles) => (args: string[]) => args[0]?.endsWith('dnsmasq') === true && args.includes(`--pid-file=${files.pidfile}`);

/** Writes the file if its text differs; true when it did. */
async function writeIfChanged(path: string, text: string): Promise<boolean> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === text) return false;
  await writeFile(`${path}.part`, text);
  // Set outright: dnsmasq reads it as nobody, and Nubo's umask (0077) would close it.
  await chmod(`${path}.part`, 0o644);
  await rename(`${path}.part`, path);
  return true;
}

export async function ensureDhcp(ctx: Context, spec: DhcpSpec): Promise<void> {
  const ns = namespaces(ctx.prefix).dhcp(spec.networkId);
  const { bridge } = await networkRecord(ctx, spec.networkId);
  await ensureNamespace(ctx.sh, ns);
  const leg = dhcpLeg(spec.port.id);
  // The leg of a DHCP port the network no longer has.
  for (const name of (await links(ctx.sh, ns)).keys()) {
    if (name.startsWith('ns-') && name !== leg.inside) await ip(ctx.sh, ns, ['link', 'del', name]);
  }
  const addresses = [...spec.port.addresses, ...(spec.metadata ? [`${METADATA_IP}/32`] : [])];
  await ensureLeg(ctx.sh, { netns: ns, ...leg, bridge, mac: spec.port.mac, mtu: spec.mtu, addresses });

  const dir = dirOf(ctx, spec.networkId);
  // dnsmasq reads its files after it has dropped to `nobody`; the modes are set outright, since
  // Nubo's umask (0077) would close the directories.
  await mkdir(dir, { recursive: true });
  for (const d of [join(ctx.stateDir, 'dhcp'), dir]) await chmod(d, 0o755);
  const files = filesOf(dir);
  const hosts = hostsFile(spec);
  const hostsChanged = await writeIfChanged(files.hosts, hosts);
  const optsChanged = await writeIfChanged(files.opts, optsFile(spec));
  const argv = dnsmasqArgv(spec, leg.inside, files);
  const live = await livePid(files.pidfile, isDnsmasqOf(files));
  if (live && live.args.slice(1).join('\0') === argv.slice(1).join('\0')) {
    // Also when nothing changed but no reload of this text was seen (a crash between write and signal).
    const served = await servedHosts(files, live.pid);
    if (hostsChanged || optsChanged || served !== hosts) {
      const offset = await logEnd(files);
      process.kill(live.pid, 'SIGHUP');
      await awaitHostsRead(files, live.pid, offset, hosts);
      await releaseGone(ctx, ns, leg.inside, served ?? '', hosts);
    }
  } else {
    if (live) await killAndWait(live.pid);
    await rm(files.pidfile, { force: true });
    await pruneLeases(files.leases, hosts);
    const offset = await logEnd(files);
    // dnsmasq checks its setup, forks and returns: an error here is a dnsmasq that did not start.
    await ctx.sh.in(ns, argv);
    const started = await livePid(files.pidfile, isDnsmasqOf(files));
    if (!started) throw new Error(`dnsmasq of network ${spec.networkId} exited after it started; see ${files.log}`);
    await awaitHostsRead(files, started.pid, offset, hosts);
    ctx.log.info({ network: spec.networkId, restarted: Boolean(live) }, 'dnsmasq started');
  }

  if (spec.metadata) await ensureMetadataEndpoint(ctx, ns, spec.networkId, dir);
  else await stopMetadataEndpoint(ctx, spec.networkId, dir);
}

// dnsmasq keeps a lease until it expires, and will not hand a configured address to a new MAC while
// another MAC holds it: an address freed by a deleted port and given to a new one would get no
// answer for a day. So the leases of hosts that left go as Neutron lets them go: a DHCPRELEASE sent
// by dhcp_release to a running dnsmasq, and dropped from the lease file before a start.

/** Releases, in the running dnsmasq, the leases of the host lines that were and are no more. */
async function releaseGone(ctx: Context, ns: string, iface: string, before: string, after: string): Promise<void> {
  const kept = new Set(parseHostsFile(after).map((h) => `${h.mac} ${h.ip}`));
  for (const h of parseHostsFile(before)) {
    if (!kept.has(`${h.mac} ${h.ip}`)) await ctx.sh.in(ns, ['dhcp_release', iface, h.ip, h.mac]);
  }
}

/** Drops from a lease file (expiry, MAC, IP, name, client id per line) the leases of MACs and
 * addresses the hosts text no longer pairs. */
async function pruneLeases(path: string, hosts: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const kept = new Set(parseHostsFile(hosts).map((h) => `${h.mac.toLowerCase()} ${h.ip}`));
  const lines = text.split('\n').filter((line) => {
    const [, mac = '', ip = ''] = line.split(' ');
    return line && kept.has(`${mac.toLowerCase()} ${ip}`);
  });
  await writeIfChanged(path, lines.map((l) => `${l}\n`).join(''));
}

export async function deleteDhcp(ctx: Context, networkId: string): Promise<void> {
  const dir = dirOf(ctx, networkId);
  const files = filesOf(dir);
  await stopMetadataEndpoint(ctx, networkId, dir);
  await stopDaemon(files.pidfile, isDnsmasqOf(files));
  await deleteNamespace(ctx.sh, namespaces(ctx.prefix).dhcp(networkId));
  await rm(dir, { recursive: true, force: true });
}

/** The leases the network's running dnsmasq answers: those of the hosts text it last read. */
export async function servedLeases(ctx: Context, networkId: string): Promise<{ mac: string; ip: string }[]> {
  const files = filesOf(dirOf(ctx, networkId));
  const live = await livePid(files.pidfile, isDnsmasqOf(files));
  const hosts = live && (await servedHosts(files, live.pid));
  return hosts ? parseHostsFile(hosts) : [];
}

/** The networks whose DHCP namespace is here. */
export async function dhcpNetworks(ctx: Context): Promise<string[]> {
  const start = namespaces(ctx.prefix).dhcp('');
  return (await listNamespaces()).filter((n) => n.startsWith(start)).map((n) => n.slice(start.length));
}
