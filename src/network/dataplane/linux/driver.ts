import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Dataplane } from '../driver.ts';
import { deleteNetwork, ensureNetwork, wiredNetworks } from './bridge.ts';
import type { Context, LinuxDataplaneOptions } from './context.ts';
import { deleteDhcp, dhcpNetworks, ensureDhcp, servedLeases } from './dhcp.ts';
import { createFirewall } from './firewall.ts';
import { createShell } from './host.ts';
import { closeMetadataEndpoints } from './metadata.ts';
import { PREFIX } from './names.ts';
import { applyQos, removeQos } from './qos.ts';
import { deletePorts, ensurePorts, wiredPorts } from './ports.ts';
import { deleteRouter, ensureRouter, hostedRouters } from './router.ts';

export type { LinuxDataplaneOptions } from './context.ts';

/** The first existing directory on the way to path that others cannot search. */
function closedDirectory(path: string): string | undefined {
  const dirs: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of dirs) {
    const st = statSync(dir, { throwIfNoEntry: false });
    // What does not exist yet is made searchable (0755).
    if (!st) return undefined;
    if (!(st.mode & 0o001)) return dir;
  }
  return undefined;
}

/** Makes the missing directories on the way to path, searchable by others whatever the umask
 * (Nubo runs with 0077). */
function makeSearchable(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !statSync(dir, { throwIfNoEntry: false }); dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) {
    mkdirSync(dir);
    chmodSync(dir, 0o755);
  }
}

/**
 * The data plane of a Linux host: bridges, veths and namespaces, dnsmasq, metadata endpoints,
 * iptables and nftables. Every call reads the host afresh, so a new driver with the same prefix and
 * state directory adopts what an earlier process made; only the firewall is known from what was
 * applied, between rereads (./firewall.ts). Calls may overlap as the Dataplane contract says.
 */
export function createLinuxDataplane(opts: LinuxDataplaneOptions): Dataplane {
  if (!PREFIX.test(opts.prefix))
    throw new Error(`data plane prefix ${JSON.stringify(opts.prefix)}: expected a lowercase letter, then up to 13 of a-z, 0-9 and -`);
  if (process.getuid?.() !== 0)
    throw new Error('the linux network data plane makes bridges, namespaces and firewall rules: run Nubo as root, or choose network_dataplane = fake');
  const closed = closedDirectory(opts.stateDir);
  if (closed) {
    throw new Error(
      `the network state directory ${opts.stateDir} is out of dnsmasq's reach: dnsmasq reads its files as the user nobody, and others cannot search ${closed} (chmod o+x ${closed}, or choose a state directory such as /var/lib/nubo/network)`,
    );
  }
  makeSearchable(opts.stateDir);
  const ctx: Context = { ...opts, sh: createShell(opts.hostNetns, opts.log), metadataEndpoints: new Map() };
  const firewall = createFirewall(ctx);
  return {
    ensureNetwork: (spec) => ensureNetwork(ctx, spec),
    deleteNetwork: (id) => deleteNetwork(ctx, id),
    ensureDhcp: (spec) => ensureDhcp(ctx, spec),
    deleteDhcp: (networkId) => deleteDhcp(ctx, networkId),
    servedLeases: (networkId) => servedLeases(ctx, networkId),
    async ensurePorts(specs) {
      await ensurePorts(ctx, specs);
      await applyQos(ctx, specs);
    },
    async deletePorts(ids) {
      await removeQos(ctx, ids);
      await deletePorts(ctx, ids);
    },
    ensureRouter: (spec) => ensureRouter(ctx, spec),
    deleteRouter: (id) => deleteRouter(ctx, id),
    applyFirewall: (ports, o) => firewall.apply(ports, o),
    isFiltered: async (portId) => firewall.isFiltered(portId),
    async inventory() {
      const [networks, dhcp, ports, routers] = await Promise.all([wiredNetworks(ctx), dhcpNetworks(ctx), wiredPorts(ctx), hostedRouters(ctx)]);
      return { networks, dhcp, ports, routers };
    },
    close: () => closeMetadataEndpoints(ctx),
  };
}
