// The network agent of one host: reconciles the data plane (bridges, DHCP, taps, routers, the
// firewall) toward what the store says, and writes the ports' and floating IPs' status back.

import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Logger } from '../../lib/log.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { startController, type Controller } from '../../lib/reconcile/controller.ts';
import { DATAPLANE_CHANNEL, dataplaneChanged } from '../changes.ts';
import type { Dataplane, NetworkSpec } from '../dataplane/driver.ts';
import { floatingIps, networks, ports, routers } from '../tables.ts';
import { devicePorts, wiredHere, dhcpLeasesOf, dhcpSpec, hostPorts, isDevicePort, networkSpec, portSpecs, routerNetworks, routerSpec, type TunnelEnd } from './specs.ts';

export interface NetworkAgentOptions {
  store: Store;
  dataplane: Dataplane;
  /** The host name ports are bound to (binding:host_id). */
  host: string;
  /** Serve the metadata service from each network's DHCP namespace. */
  metadata: boolean;
  /** This host's VXLAN tunnel address, on a host of a multi-host cloud: its vxlan networks then
   * reach the ports of the other hosts. Undefined: one host holds every port. */
  tunnelIp?: string;
  /** Whether this host is the network host, which serves every network's DHCP and every router
   * (default); another host wires only the networks its own ports are on. */
  networkHost?: boolean;
  /** With a tunnel: the network host binds the DHCP and router ports to itself, so that the other
   * hosts know where to send their frames. 'unbound' takes only ports bound to no host; 'all' also
   * those of another host (this host was named the network host, and takes over from the old one). */
  bindServicePorts?: 'unbound' | 'all';
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

/** The same, of the ports a live migration brings to this host, as this host has wired them. */
async function setMigratingStatus(db: Db, host: string, ids: string[], status: 'ACTIVE' | 'DOWN'): Promise<void> {
  if (ids.length)
    await db
      .update(ports)
      .set({ migratingStatus: status })
      .where(and(inArray(ports.id, ids), eq(ports.migratingTo, host)));
}

/** Runs each call after the earlier ones are through, whether they failed or not. */
function serially(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** How long a port change waits for others before the batch that takes them all runs. */
const PORTS_SETTLE_MS = 10;

export async function startNetworkAgent(opts: NetworkAgentOptions): Promise<Controller> {
  const { store, dataplane: dp, host } = opts;
  const { db } = store;
  const networkHost = opts.networkHost ?? true;
  const end: TunnelEnd | undefined = opts.tunnelIp ? { host, local: opts.tunnelIp } : undefined;

  /** Binds the network host's own ports (DHCP, router legs) to it, and, when that moved any, tells
   * every host that those networks' forwarding tables changed. */
  async function bindHere(portIds: string[]): Promise<void> {
    if (!end || !portIds.length) return;
    const moved = await db
      .update(ports)
      .set({ hostId: host })
      .where(and(inArray(ports.id, portIds), opts.bindServicePorts === 'all' ? ne(ports.hostId, host) : eq(ports.hostId, '')))
      .returning({ networkId: ports.networkId });
    for (const networkId of new Set(moved.map((m) => m.networkId))) await dataplaneChanged(db, `network:${networkId}`);
  }

  /** Whether a port of this host's own (a server's NIC, a load balancer's VIP) is on the network. */
  async function holdsPortOn(networkId: string): Promise<boolean> {
    const [one] = await db
      .select({ id: ports.id })
      .from(ports)
      .where(and(eq(ports.networkId, networkId), wiredHere(host), devicePorts()))
      .limit(1);
    return one !== undefined;
  }

  // Port changes are applied in batches: each `port:<id>` key only joins the next batch, and the
  // `ports` key wires them all in one pass (one device listing, one `ip -batch`, at most one
  // firewall apply, one status update). A key never runs beside itself, so the ports that change
  // while a batch runs make the next one.
  const pending = new Set<string>();
  // Keys may run before startController has returned the controller they are queued on.
  let started!: (c: Controller) => void;
  const controller = new Promise<Controller>((resolve) => (started = resolve));
  async function queuePorts(ids: Iterable<string>): Promise<void> {
    for (const id of ids) pending.add(id);
    if (pending.size) (await controller).add('ports');
  }

  // A resync reads the host's firewall again rather than trust what was applied: what changed
  // there behind the agent's back is repaired at each resync period.
  let rereadFirewall = true;
  // Keys run side by side (each network's DHCP and each router in namespaces of their own), but
  // what every port shares is changed by one call at a time: the host's bridges (and the zones
  // table that names them all), and the firewall.
  const bridges = serially();
  const firewall = serially();
  /** Applies every port's rules; unless still says, once the firewall's turn comes, that an
   * apply is still wanted (one that ran meanwhile may have done it). */
  const reconcileFirewall = (still?: () => Promise<boolean>) =>
    firewall(async () => {
      if (still && !(await still())) return;
      const reread = rereadFirewall;
      rereadFirewall = false;
      try {
        await dp.applyFirewall(await portSpecs(db, await hostPorts(db, host)), { reread });
      } catch (err) {
        rereadFirewall ||= reread;
        throw err;
      }
    });

  // The networks made as these specs say, by this process: a batch of ports, or a burst of port
  // changes that rewrites a network's leases, need not make sure of their bridge again. Forgotten
  // when a reconcile that relied on it fails (the bridge may be what failed it); each resync makes
  // sure again of every network.
  const ensured = new Map<string, string>();
  const resynced = new Set<string>();
  async function ensureNetwork(spec: NetworkSpec, trust = false): Promise<void> {
    const said = JSON.stringify(spec);
    if (trust && ensured.get(spec.id) === said) return;
    ensured.delete(spec.id);
    await bridges(() => dp.ensureNetwork(spec));
    ensured.set(spec.id, said);
  }

  async function reconcileNetwork(id: string): Promise<void> {
    try {
      await reconcileNetworkOnce(id);
    } catch (err) {
      ensured.delete(id);
      throw err;
    }
  }

  async function reconcileNetworkOnce(id: string): Promise<void> {
    const spec = await networkSpec(db, id, end);
    // A host other than the network host wires a network only while one of its ports is on it.
    if (!spec || (!networkHost && !(await holdsPortOn(id)))) {
      ensured.delete(id);
      await dp.deleteDhcp(id);
      await bridges(() => dp.deleteNetwork(id));
      return;
    }
    await ensureNetwork(spec, !resynced.delete(id));
    const dhcp = networkHost ? await dhcpSpec(db, id, opts.metadata) : undefined;
    if (dhcp) {
      await dp.ensureDhcp(dhcp);
      await setStatus(db, [dhcp.port.id], 'ACTIVE');
      await bindHere([dhcp.port.id]);
    } else {
      await dp.deleteDhcp(id);
    }
    // The network's ports that wait for their leases to be served look again, in the next batch.
    const waiting = await db
      .select({ id: ports.id })
      .from(ports)
      .where(
        and(
          eq(ports.networkId, id),
          eq(ports.hostId, host),
          devicePorts(),
          eq(ports.adminStateUp, true),
          ne(ports.status, 'ACTIVE'),
        ),
      );
    await queuePorts(waiting.map((p) => p.id));
  }

  /** Neutron's DHCP provisioning block: the ports whose every lease the network's DHCP server
   * answers, so that a guest whose client tries once gets its address. One look per network. */
  async function dhcpServed(rows: PortRow[]): Promise<Set<string>> {
    // The network host's dnsmasq cannot be asked from another host: its ports go ACTIVE once
    // wired, and their guests' DHCP clients retry until the lease is served.
    if (!networkHost) return new Set(rows.map((r) => r.id));
    const wanted = await dhcpLeasesOf(db, rows);
    const served = new Map<string, Set<string>>();
    for (const networkId of new Set(rows.filter((r) => wanted.get(r.id)!.length).map((r) => r.networkId))) {
      served.set(networkId, new Set((await dp.servedLeases(networkId)).map((l) => `${l.mac.toLowerCase()} ${l.ip}`)));
    }
    return new Set(rows.filter((r) => wanted.get(r.id)!.every((l) => served.get(r.networkId)!.has(`${l.mac.toLowerCase()} ${l.ip}`))).map((r) => r.id));
  }

  /** Wires these ports (or removes those this host no longer holds) and writes their status. */
  async function reconcilePorts(ids: string[]): Promise<void> {
    const rows = await db.select().from(ports).where(inArray(ports.id, ids));
    const mine = rows.filter((r) => (r.hostId === host || r.migratingTo === host) && isDevicePort(r.deviceOwner));
    const kept = new Set(mine.map((r) => r.id));
    await dp.deletePorts(ids.filter((id) => !kept.has(id)));
    // A port cannot outlive its network in the store: one whose network is gone waits for the
    // network's own reconcile.
    const wired = new Set<string>();
    for (const networkId of new Set(mine.map((r) => r.networkId))) {
      const net = await networkSpec(db, networkId, end);
      if (!net) continue;
      await ensureNetwork(net, true);
      wired.add(networkId);
    }
    const rowsToWire = mine.filter((r) => wired.has(r.networkId));
    const specs = await portSpecs(db, rowsToWire);
    await dp.ensurePorts(specs);
    // ACTIVE starts the guest: a secured port gets there only once its rules are in place, even
    // when the firewall key has not come round to it yet, and once DHCP answers it (its network's
    // reconcile comes round to it, then queues it again).
    const unfiltered = async () => (await Promise.all(specs.map(async (s) => s.security !== undefined && !(await dp.isFiltered(s.id))))).includes(true);
    if (await unfiltered()) await reconcileFirewall(unfiltered);
    const served = await dhcpServed(rowsToWire);
    const active = (r: PortRow) => r.adminStateUp && served.has(r.id);
    // A port a live migration brings here keeps its status from its host: this host's wiring is
    // written apart, for the destination's compute agent.
    const bound = rowsToWire.filter((r) => r.hostId === host);
    await setStatus(db, bound.filter(active).map((r) => r.id), 'ACTIVE');
    await setStatus(db, bound.filter((r) => !active(r)).map((r) => r.id), 'DOWN');
    const arriving = rowsToWire.filter((r) => r.hostId !== host);
    await setMigratingStatus(db, host, arriving.filter(active).map((r) => r.id), 'ACTIVE');
    await setMigratingStatus(db, host, arriving.filter((r) => !active(r)).map((r) => r.id), 'DOWN');
  }

  /** Runs the pending batch. When a batch fails, each of its ports is tried alone, so that one
   * port the host refuses does not hold back the others; those that still fail wait for the retry. */
  async function runBatch(): Promise<void> {
    const ids = [...pending];
    pending.clear();
    if (!ids.length) return;
    try {
      await reconcilePorts(ids);
      return;
    } catch (err) {
      ensured.clear();
      if (ids.length === 1) {
        pending.add(ids[0]!);
        throw err;
      }
    }
    const failed: unknown[] = [];
    for (const id of ids) {
      await reconcilePorts([id]).catch((err: unknown) => {
        pending.add(id);
        failed.push(err);
      });
    }
    if (failed.length) throw failed[0];
  }

  async function reconcileRouter(id: string): Promise<void> {
    // Routers live on the network host only.
    const spec = networkHost ? await routerSpec(db, id) : undefined;
    if (!spec) {
      await dp.deleteRouter(id);
      return;
    }
    for (const networkId of routerNetworks(spec)) {
      const net = await networkSpec(db, networkId, end);
      if (net) await ensureNetwork(net);
    }
    await dp.ensureRouter(spec);
    const legs = [...spec.interfaces.map((i) => i.portId), ...(spec.gateway ? [spec.gateway.portId] : [])];
    await setStatus(db, legs, 'ACTIVE');
    await bindHere(legs);
    // A floating IP is ACTIVE while a router NATs it, DOWN otherwise.
    await db
      .update(floatingIps)
      .set({ status: sql`case when ${floatingIps.fixedIpAddress} is null then 'DOWN' else 'ACTIVE' end` })
      .where(eq(floatingIps.routerId, id));
  }

  const agent = await startController({
    name: 'network-agent',
    store,
    channel: DATAPLANE_CHANNEL,
    log: opts.log,
    // Side by side: networks' DHCP servers and routers are started at once (a key never runs
    // beside itself, and every port is in the one `ports` batch).
    concurrency: 4,
    // A burst of changes makes one run: each network's leases are rewritten once for all its new
    // ports, the firewall applied once for all, and the ports wired in one batch.
    settleMs: (key) => (key.startsWith('network:') || key === 'firewall' ? 100 : key === 'ports' ? PORTS_SETTLE_MS : 0),
    async listKeys() {
      const [nets, rts, mine, actual] = await Promise.all([
        db.select({ id: networks.id }).from(networks),
        db.select({ id: routers.id }).from(routers),
        hostPorts(db, host),
        dp.inventory(),
      ]);
      rereadFirewall = true;
      for (const n of nets) resynced.add(n.id);
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
      else if (key === 'ports') await runBatch();
      else if (kind === 'network') await reconcileNetwork(id);
      else if (kind === 'port') await queuePorts([id]);
      else if (kind === 'router') await reconcileRouter(id);
      else opts.log.warn({ key }, 'network agent: unknown key');
    },
  });
  started(agent);
  return agent;
}
