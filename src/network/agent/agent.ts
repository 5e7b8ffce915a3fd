// The network agent of one host: reconciles the data plane (bridges, DHCP, taps, routers, the
// firewall) toward what the store says, and writes the ports' and floating IPs' status back.

import { and, eq, inArray, like, ne, sql } from 'drizzle-orm';
import type { Logger } from '../../lib/log.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { startController, type Controller } from '../../lib/reconcile/controller.ts';
import { DATAPLANE_CHANNEL, dataplaneChanged } from '../changes.ts';
import type { Dataplane } from '../dataplane/driver.ts';
import { floatingIps, networks, ports, routers } from '../tables.ts';
import { dhcpLeasesOf, dhcpSpec, hostPorts, networkSpec, portRow, portSpecs, routerNetworks, routerSpec, COMPUTE_OWNER } from './specs.ts';

export interface NetworkAgentOptions {
  store: Store;
  dataplane: Dataplane;
  /** The host name ports are bound to (binding:host_id). */
  host: string;
  /** Serve the metadata service from each network's DHCP namespace. */
  metadata: boolean;
  log: Logger;
}

type PortRow = typeof ports.$inferSelect;

/** Ports' status as Neutron shows it: ACTIVE once ready for their device's use, DOWN otherwise. */
async function setStatus(db: Db, ids: string[], status: 'ACTIVE' | 'DOWN'): Promise<void> {
  if (ids.length)
    await db
      .update(ports)
      .set({ status })
      .where(and(inArray(ports.id, ids), ne(ports.status, status)));
}

export async function startNetworkAgent(opts: NetworkAgentOptions): Promise<Controller> {
  const { store, dataplane: dp, host } = opts;
  const { db } = store;

  async function reconcileNetwork(id: string): Promise<void> {
    const spec = await networkSpec(db, id);
    if (!spec) {
      await dp.deleteDhcp(id);
      await dp.deleteNetwork(id);
      return;
    }
    await dp.ensureNetwork(spec);
    const dhcp = await dhcpSpec(db, id, opts.metadata);
    if (dhcp) {
      await dp.ensureDhcp(dhcp);
      await setStatus(db, [dhcp.port.id], 'ACTIVE');
    } else {
      await dp.deleteDhcp(id);
    }
    // The network's ports that wait for their leases to be served look again.
    const waiting = await db
      .select({ id: ports.id })
      .from(ports)
      .where(
        and(
          eq(ports.networkId, id),
          eq(ports.hostId, host),
          like(ports.deviceOwner, `${COMPUTE_OWNER}%`),
          eq(ports.adminStateUp, true),
          ne(ports.status, 'ACTIVE'),
        ),
      );
    await dataplaneChanged(db, ...waiting.map((p) => `port:${p.id}` as const));
  }

  /** Neutron's DHCP provisioning block: cleared once the network's DHCP server answers every lease
   * of the port, so that a guest whose client tries once gets its address. */
  async function dhcpServed(row: PortRow): Promise<boolean> {
    const wanted = await dhcpLeasesOf(db, row);
    if (!wanted.length) return true;
    const served = new Set((await dp.servedLeases(row.networkId)).map((l) => `${l.mac.toLowerCase()} ${l.ip}`));
    return wanted.every((l) => served.has(`${l.mac.toLowerCase()} ${l.ip}`));
  }

  const reconcileFirewall = async () => dp.applyFirewall(await portSpecs(db, await hostPorts(db, host)));

  async function reconcilePort(id: string): Promise<void> {
    const row = await portRow(db, id);
    if (!row || row.hostId !== host || !row.deviceOwner.startsWith(COMPUTE_OWNER)) {
      await dp.deletePort(id);
      return;
    }
    const net = await networkSpec(db, row.networkId);
    if (!net) return; // the network's own reconcile comes; a port cannot outlive it in the store
    await dp.ensureNetwork(net);
    const [spec] = await portSpecs(db, [row]);
    await dp.ensurePort(spec!);
    // ACTIVE starts the guest: a secured port gets there only once its rules are in place, even
    // when the firewall key has not come round to it yet, and once DHCP answers it (its network's
    // reconcile comes round to it, then queues this key again).
    if (spec!.security && !(await dp.isFiltered(id))) await reconcileFirewall();
    await setStatus(db, [id], row.adminStateUp && (await dhcpServed(row)) ? 'ACTIVE' : 'DOWN');
  }

  async function reconcileRouter(id: string): Promise<void> {
    const spec = await routerSpec(db, id);
    if (!spec) {
      await dp.deleteRouter(id);
      return;
    }
    for (const networkId of routerNetworks(spec)) {
      const net = await networkSpec(db, networkId);
      if (net) await dp.ensureNetwork(net);
    }
    await dp.ensureRouter(spec);
    await setStatus(db, [...spec.interfaces.map((i) => i.portId), ...(spec.gateway ? [spec.gateway.portId] : [])], 'ACTIVE');
    // A floating IP is ACTIVE while a router NATs it, DOWN otherwise.
    await db
      .update(floatingIps)
      .set({ status: sql`case when ${floatingIps.fixedIpAddress} is null then 'DOWN' else 'ACTIVE' end` })
      .where(eq(floatingIps.routerId, id));
  }

  return startController({
    name: 'network-agent',
    store,
    channel: DATAPLANE_CHANNEL,
    log: opts.log,
    // One at a time: a port's and its network's reconciles both make sure of the bridge, and two
    // `ip link add` of one bridge at once would fail one of them.
    concurrency: 1,
    // Each port change rewrites its network's leases, which costs in proportion to the network's
    // ports: a burst of port changes waits for one rewrite.
    settleMs: (key) => (key.startsWith('network:') ? 100 : 0),
    async listKeys() {
      const [nets, rts, mine, actual] = await Promise.all([
        db.select({ id: networks.id }).from(networks),
        db.select({ id: routers.id }).from(routers),
        hostPorts(db, host),
        dp.inventory(),
      ]);
      return [
        ...new Set([
          ...[...nets.map((n) => n.id), ...actual.networks, ...actual.dhcp].map((id) => `network:${id}`),
          ...[...mine.map((p) => p.id), ...actual.ports].map((id) => `port:${id}`),
          ...[...rts.map((r) => r.id), ...actual.routers].map((id) => `router:${id}`),
          'firewall',
        ]),
      ];
    },
    async reconcile(key) {
      const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (key === 'firewall') await reconcileFirewall();
      else if (kind === 'network') await reconcileNetwork(id);
      else if (kind === 'port') await reconcilePort(id);
      else if (kind === 'router') await reconcileRouter(id);
      else opts.log.warn({ key }, 'network agent: unknown key');
    },
  });
}
