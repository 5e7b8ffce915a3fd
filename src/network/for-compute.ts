// What the compute service asks of the network service: ports for a server's NICs, bound to the
// host that runs it, and their addresses for the server's view. Compute never writes a port itself.

import { and, asc, eq, inArray, like, notLike, sql } from 'drizzle-orm';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { createPort, deletePort } from './ports.ts';
import { resolveSecurityGroups } from './security-groups.ts';
import { floatingIps, ipAllocations, networks, ports, securityGroups } from './tables.ts';
import { tapName } from './dataplane/driver.ts';
import { usableNetworks } from './visibility.ts';

/** Nova's device_owner for a server's ports (its availability zone after the colon). */
export const SERVER_PORT_OWNER = 'compute:nova';

export interface NicRequest {
  networkId?: string;
  portId?: string;
  fixedIp?: string;
}

/** The networks a server gets when it names none: the project's own and the shared ones, but never
 * an external network. More than one is ambiguous, as Nova says. */
async function defaultNetwork(tx: Db, projectId: string): Promise<string | undefined> {
  const candidates = await tx
    .select({ id: networks.id })
    .from(networks)
    .where(and(eq(networks.external, false), usableNetworks(projectId)));
  if (candidates.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
  return candidates[0]?.id;
}

/** The security groups a server asks for by name or id: their ids for its ports, their names as
 * Nova shows them. 400 for one the project cannot use (Neutron says 404 or 409, Nova 400). */
export async function serverSecurityGroups(tx: Db, projectId: string, namesOrIds: string[]): Promise<{ ids: string[]; names: string[] }> {
  if (!namesOrIds.length) return { ids: [], names: [] };
  const ids = await resolveSecurityGroups(tx, projectId, namesOrIds).catch((err) => {
    throw err instanceof ApiError && err.status < 500 ? badRequest(err.message) : err;
  });
  const rows = await tx.select({ id: securityGroups.id, name: securityGroups.name }).from(securityGroups).where(inArray(securityGroups.id, ids));
  return { ids, names: ids.map((id) => rows.find((r) => r.id === id)?.name || id) };
}

/**
 * Makes (or takes) the ports of a new server inside its create transaction, in NIC order; returns
 * their ids. A port the user made and named is taken over, and given back on delete.
 */
export async function allocateServerPorts(
  tx: Db,
  opts: { projectId: string; serverId: string; nics: 'auto' | 'none' | NicRequest[]; securityGroupIds: string[] },
): Promise<void> {
  let nics: NicRequest[];
  if (opts.nics === 'none') nics = [];
  else if (opts.nics === 'auto') {
    const id = await defaultNetwork(tx, opts.projectId);
    nics = id ? [{ networkId: id }] : [];
  } else nics = opts.nics;
  const groups = opts.securityGroupIds.length ? opts.securityGroupIds : undefined;
  for (const nic of nics) {
    if (nic.portId) {
      const [port] = await tx
        .select()
        .from(ports)
        .where(and(eq(ports.id, nic.portId), eq(ports.projectId, opts.projectId)))
        .for('update');
      if (!port) throw notFound(`Port id ${nic.portId} could not be found.`);
      if (port.deviceId) throw conflict(`Port ${nic.portId} is still in use.`);
      await tx.update(ports).set({ deviceId: opts.serverId, deviceOwner: SERVER_PORT_OWNER, updatedAt: new Date() }).where(eq(ports.id, port.id));
      await dataplaneChanged(tx, `port:${port.id}`, `network:${port.networkId}`, 'firewall');
      continue;
    }
    // Locked first, then checked: a grant taken back meanwhile is seen gone, or waits for this port.
    await tx
      .select({ id: networks.id })
      .from(networks)
      .where(eq(networks.id, nic.networkId ?? ''))
      .for('key share');
    const [net] = await tx
      .select()
      .from(networks)
      .where(and(eq(networks.id, nic.networkId ?? ''), usableNetworks(opts.projectId)));
    if (!net) throw badRequest(`Network ${nic.networkId} could not be found.`);
    // A chosen address on another project's (shared) network could be its gateway's or a
    // neighbour's: Neutron lets only the network's owner or the admin choose there.
    if (nic.fixedIp && net.projectId !== opts.projectId) throw forbidden(`Policy doesn't allow a fixed IP on network ${net.id} of another project.`);
    await createPort(tx, {
      networkId: net.id,
      projectId: opts.projectId,
      deviceId: opts.serverId,
      deviceOwner: SERVER_PORT_OWNER,
      fixedIps: nic.fixedIp ? [{ ipAddress: nic.fixedIp }] : undefined,
      securityGroups: groups,
    });
  }
}

/** A server as its ports know it: device_id is whatever a port's owner wrote, so a port is the
 * server's only when it is also of the server's project; another project's port that names the
 * server is never plugged into it, shown as its address, or deleted with it. */
export interface ServerRef {
  id: string;
  projectId: string;
}

const portsOf = (s: ServerRef) => and(eq(ports.deviceId, s.id), eq(ports.projectId, s.projectId), like(ports.deviceOwner, 'compute:%'));

/** Binds a server's ports to the host the scheduler chose: that host's agent wires them. A port
 * moving to another host (evacuation, migration) is DOWN until the new host has wired it, so that
 * the guest is not started there before its taps exist. */
export async function bindServerPorts(tx: Db, server: ServerRef, host: string): Promise<void> {
  const bound = await tx
    .update(ports)
    .set({ hostId: host, status: sql`case when ${ports.hostId} = ${host} then ${ports.status} else 'DOWN' end`, updatedAt: new Date() })
    .where(portsOf(server))
    .returning({ id: ports.id, networkId: ports.networkId });
  for (const p of bound) await dataplaneChanged(tx, `port:${p.id}`, `network:${p.networkId}`, 'firewall');
}

/** The three steps of a live migration's port bindings, as Neutron's multiple bindings: the
 * destination wires the ports too (`migratingTo`) while the source keeps them; the switch-over
 * binds them to the destination, whose wiring becomes theirs; a failed migration drops the
 * destination's. Each tells every host (their forwarding tables name each port's host). */
export async function bindMigratingPorts(tx: Db, server: ServerRef, step: { to: string } | 'switch' | 'drop'): Promise<void> {
  const set =
    step === 'switch'
      ? { hostId: sql`coalesce(${ports.migratingTo}, ${ports.hostId})`, status: sql`coalesce(${ports.migratingStatus}, ${ports.status})` }
      : step === 'drop'
        ? {}
        : { migratingTo: step.to, migratingStatus: 'DOWN' };
  const bound = await tx
    .update(ports)
    .set({ migratingTo: null, migratingStatus: null, ...set, updatedAt: new Date() })
    .where(portsOf(server))
    .returning({ id: ports.id, networkId: ports.networkId });
  for (const p of bound) await dataplaneChanged(tx, `port:${p.id}`, `network:${p.networkId}`, 'firewall');
}

export interface ServerNic {
  portId: string;
  networkId: string;
  mac: string;
  /** The tap the network agent made for the port. */
  tap: string;
  mtu: number;
  /** Wired (and its firewall in place) on its host; with `migrating`, on the host a live
   * migration takes it to. */
  active: boolean;
}

/** A server's NICs, by when their ports were made (ports made in one request share that time and
 * are ordered by id). */
export async function serverNics(db: Db, server: ServerRef, migrating = false): Promise<ServerNic[]> {
  const rows = await db
    .select({ port: ports, mtu: networks.mtu })
    .from(ports)
    .innerJoin(networks, eq(networks.id, ports.networkId))
    .where(portsOf(server))
    .orderBy(asc(ports.createdAt), asc(ports.id));
  return rows.map(({ port, mtu }) => ({
    portId: port.id,
    networkId: port.networkId,
    mac: port.macAddress,
    tap: tapName(port.id),
    mtu,
    active: (migrating ? port.migratingStatus : port.status) === 'ACTIVE',
  }));
}

/** Gives back a deleted server's ports: deletes those made for it, unbinds those it was given. */
export async function releaseServerPorts(tx: Db, server: ServerRef, given: string[]): Promise<void> {
  const mine = await tx.select().from(ports).where(portsOf(server));
  for (const p of mine) {
    if (given.includes(p.id)) {
      await tx.update(ports).set({ deviceId: '', deviceOwner: '', hostId: '', status: 'DOWN', updatedAt: new Date() }).where(eq(ports.id, p.id));
      await dataplaneChanged(tx, `port:${p.id}`, `network:${p.networkId}`, 'firewall');
    } else {
      await deletePort(tx, p.id);
    }
  }
}

/** The (id, project) of the servers with a fixed address of that IP version matching a regular
 * expression, as a subquery for the server list's `ip`/`ip6` filters. */
export function serversWithAddress(db: Db, pattern: string, version: 4 | 6) {
  return db
    .selectDistinct({ id: ports.deviceId, projectId: ports.projectId })
    .from(ports)
    .innerJoin(ipAllocations, eq(ipAllocations.portId, ports.id))
    .where(
      and(
        like(ports.deviceOwner, 'compute:%'),
        version === 6 ? like(ipAllocations.ipAddress, '%:%') : notLike(ipAllocations.ipAddress, '%:%'),
        sql`${ipAllocations.ipAddress} ~ ${pattern}`,
      ),
    );
}

export interface ServerAddress {
  network: string;
  addr: string;
  version: 4 | 6;
  type: 'fixed' | 'floating';
  mac: string;
}

/** The addresses of servers, fixed and floating, by server id: what Nova shows as `addresses`. */
export async function serverAddresses(db: Db, list: ServerRef[]): Promise<Map<string, ServerAddress[]>> {
  const out = new Map<string, ServerAddress[]>();
  if (!list.length) return out;
  const projectOf = new Map(list.map((s) => [s.id, s.projectId]));
  const rows = (
    await db
      .select({
        serverId: ports.deviceId,
        projectId: ports.projectId,
        portId: ports.id,
        mac: ports.macAddress,
        network: networks.name,
        ip: ipAllocations.ipAddress,
      })
      .from(ports)
      .innerJoin(networks, eq(networks.id, ports.networkId))
      .innerJoin(ipAllocations, eq(ipAllocations.portId, ports.id))
      .where(and(inArray(ports.deviceId, [...projectOf.keys()]), like(ports.deviceOwner, 'compute:%')))
      .orderBy(asc(ports.createdAt), asc(ports.id))
  ).filter((r) => projectOf.get(r.serverId) === r.projectId);
  const portIds = [...new Set(rows.map((r) => r.portId))];
  const fips = portIds.length ? await db.select().from(floatingIps).where(inArray(floatingIps.portId, portIds)) : [];
  for (const r of rows) {
    const list = out.get(r.serverId) ?? [];
    const version = r.ip.includes(':') ? 6 : 4;
    list.push({ network: r.network, addr: r.ip, version, type: 'fixed', mac: r.mac });
    for (const f of fips.filter((f) => f.portId === r.portId && f.fixedIpAddress === r.ip)) {
      list.push({ network: r.network, addr: f.floatingIpAddress, version, type: 'floating', mac: r.mac });
    }
    out.set(r.serverId, list);
  }
  return out;
}
