// A server's interfaces as Nova's os-interface shows and changes them: its ports, one more made or
// taken over for a running server, one given back. Compute never writes a port itself.

import { and, asc, eq, inArray, like } from 'drizzle-orm';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { dataplaneChanged } from './changes.ts';
import { SERVER_PORT_OWNER, type ServerRef } from './for-compute.ts';
import { createPort, deletePort } from './ports.ts';
import { ipAllocations, networks, ports, portSecurityGroups } from './tables.ts';
import { usableNetworks } from './visibility.ts';

export interface ServerInterface {
  portId: string;
  networkId: string;
  mac: string;
  /** The port's status: DOWN until its host's agent has wired it, then ACTIVE. */
  state: string;
  fixedIps: { subnetId: string; ipAddress: string }[];
}

const portsOf = (s: ServerRef) => and(eq(ports.deviceId, s.id), eq(ports.projectId, s.projectId), like(ports.deviceOwner, 'compute:%'));

/** A server's interfaces, in the order its NICs have (by when their ports were made). */
export async function serverInterfaces(db: Db, server: ServerRef, portId?: string): Promise<ServerInterface[]> {
  const rows = await db
    .select()
    .from(ports)
    .where(and(portsOf(server), portId === undefined ? undefined : eq(ports.id, portId)))
    .orderBy(asc(ports.createdAt), asc(ports.id));
  if (!rows.length) return [];
  const ips = await db
    .select()
    .from(ipAllocations)
    .where(
      inArray(
        ipAllocations.portId,
        rows.map((p) => p.id),
      ),
    );
  return rows.map((p) => ({
    portId: p.id,
    networkId: p.networkId,
    mac: p.macAddress,
    state: p.status,
    fixedIps: ips.filter((a) => a.portId === p.id).map((a) => ({ subnetId: a.subnetId, ipAddress: a.ipAddress })),
  }));
}

export interface InterfaceRequest {
  portId?: string;
  networkId?: string;
  fixedIp?: string;
}

/**
 * Gives a server one more port, bound to its host so that the host's network agent wires its tap:
 * the port named (the project's, and free), or a new one on the network named with the project's
 * default security group, as Nova has Neutron make it. Returns the port's id and whether the user
 * gave it (given ports are unbound at detach or delete, never deleted).
 */
export async function attachServerPort(
  tx: Db,
  server: ServerRef & { host: string | null },
  req: InterfaceRequest,
): Promise<{ portId: string; given: boolean }> {
  const bind = { deviceId: server.id, deviceOwner: SERVER_PORT_OWNER, hostId: server.host ?? '' };
  if (req.portId) {
    const [port] = await tx.select().from(ports).where(eq(ports.id, req.portId)).for('update');
    if (!port || port.projectId !== server.projectId) throw notFound(`Port ${req.portId} could not be found.`);
    if (port.deviceId) throw conflict(`Port ${req.portId} is still in use.`);
    await tx
      .update(ports)
      .set({ ...bind, updatedAt: new Date() })
      .where(eq(ports.id, port.id));
    await dataplaneChanged(tx, `port:${port.id}`, `network:${port.networkId}`, 'firewall');
    return { portId: port.id, given: true };
  }
  // Neither a port nor a network: the one network the project may use, as Nova picks it.
  const usable = await tx
    .select()
    .from(networks)
    .where(and(req.networkId ? eq(networks.id, req.networkId) : eq(networks.external, false), usableNetworks(server.projectId)));
  if (!req.networkId && usable.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
  const net = usable[0];
  if (!net) throw req.networkId ? notFound(`Network ${req.networkId} could not be found.`) : badRequest('No network is available to this project.');
  // As at create: a chosen address on another project's network could be its gateway's.
  if (req.fixedIp && net.projectId !== server.projectId) throw forbidden(`Policy doesn't allow a fixed IP on network ${net.id} of another project.`);
  const port = await createPort(tx, {
    networkId: net.id,
    projectId: server.projectId,
    ...bind,
    fixedIps: req.fixedIp ? [{ ipAddress: req.fixedIp }] : undefined,
  }).catch((err: unknown) => {
    // Nova answers a taken or unusable address with 400 whatever Neutron said.
    if (req.fixedIp && err instanceof ApiError && err.status === 409) throw badRequest(err.message);
    throw err;
  });
  return { portId: port.id, given: false };
}

/** Takes a port from a server: a port the user gave is unbound and kept, one made for it deleted. */
export async function detachServerPort(tx: Db, server: ServerRef, portId: string, given: boolean): Promise<void> {
  const [port] = await tx
    .select()
    .from(ports)
    .where(and(portsOf(server), eq(ports.id, portId)))
    .for('update');
  if (!port) throw notFound(`Port ${portId} is not attached`);
  if (!given) return deletePort(tx, port.id);
  await tx.update(ports).set({ deviceId: '', deviceOwner: '', hostId: '', status: 'DOWN', updatedAt: new Date() }).where(eq(ports.id, port.id));
  await dataplaneChanged(tx, `port:${port.id}`, `network:${port.networkId}`, 'firewall');
}

/** The security groups of a server's ports, each once, in the order their ports have. */
export async function serverSecurityGroupIds(db: Db, server: ServerRef): Promise<string[]> {
  const rows = await db
    .select({ id: portSecurityGroups.securityGroupId })
    .from(portSecurityGroups)
    .innerJoin(ports, eq(ports.id, portSecurityGroups.portId))
    .where(portsOf(server))
    .orderBy(asc(ports.createdAt), asc(ports.id), asc(portSecurityGroups.securityGroupId));
  return [...new Set(rows.map((r) => r.id))];
}
