// What compute's older server actions ask of the network: a security group added to or taken from
// every port of a server (addSecurityGroup/removeSecurityGroup), and a floating IP given to or taken
// from a server by its address (addFloatingIp/removeFloatingIp, which old clients still send).
// The port and floating IP changes are Neutron's own, so the data plane enforces them as any other.

import { and, eq, like } from 'drizzle-orm';
import { ApiError, badRequest, conflict, notFound } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { canonicalIp, ipVersion } from './addresses.ts';
import { updateFloatingIp } from './floating-ips.ts';
import { findPort, updatePort } from './ports.ts';
import { resolveSecurityGroups } from './security-groups.ts';
import { floatingIps, ports, securityGroups } from './tables.ts';
import type { ServerRef } from './for-compute.ts';
import type { Caller } from './visibility.ts';

const serverPorts = (tx: Db, s: ServerRef) =>
  tx
    .select({ id: ports.id })
    .from(ports)
    .where(and(eq(ports.deviceId, s.id), eq(ports.projectId, s.projectId), like(ports.deviceOwner, 'compute:%')))
    .orderBy(ports.createdAt, ports.id);

/** The group a server's project names (by name or id), as Nova finds it: 404 when there is none,
 * 409 when a name matches several. */
async function groupOf(tx: Db, projectId: string, nameOrId: string): Promise<{ id: string; name: string }> {
  const [id] = await resolveSecurityGroups(tx, projectId, [nameOrId]).catch((err) => {
    if (err instanceof ApiError && err.status === 409) throw conflict(`Multiple security groups found matching '${nameOrId}'. Use an ID to be more specific.`);
    if (err instanceof ApiError && err.status < 500) throw notFound(`Security group ${nameOrId} not found for project ${projectId}.`);
    throw err;
  });
  const [row] = await tx.select({ id: securityGroups.id, name: securityGroups.name }).from(securityGroups).where(eq(securityGroups.id, id!));
  return row!;
}

/**
 * Adds a security group to every port of a server, or takes it from every one, with Nova's errors:
 * 400 when it is already there (or not there, to remove) or a port has no port security, 404 when
 * the server has no port. Returns the group's name, which the server's record lists.
 */
export async function changeServerSecurityGroup(tx: Db, server: ServerRef, nameOrId: string, add: boolean): Promise<string> {
  const group = await groupOf(tx, server.projectId, nameOrId);
  const list = await serverPorts(tx, server);
  if (!list.length) throw notFound(`instance_id ${server.id} could not be found as device id on any ports`);
  const found = await Promise.all(list.map((p) => findPort(tx, { projectId: '', isAdmin: true }, p.id, true)));
  const holding = found.filter((p) => p.securityGroups.includes(group.id));
  if (add && holding.length === found.length) throw badRequest(`Security group ${group.name} is already associated with the instance ${server.id}`);
  if (!add && !holding.length) throw badRequest(`Security group ${group.name} not associated with the instance ${server.id}`);
  for (const port of found) {
    if (add && !holding.includes(port)) {
      if (!port.portSecurityEnabled || !port.fixedIps.length)
        throw badRequest('Network requires port_security_enabled and subnet associated in order to apply security groups.');
      await updatePort(tx, port.id, { securityGroups: [...port.securityGroups, group.id] });
    } else if (!add && holding.includes(port)) {
      await updatePort(tx, port.id, { securityGroups: port.securityGroups.filter((g) => g !== group.id) });
    }
  }
  return group.name;
}

/** The floating IP of that address the caller may use, locked. */
async function floatingIpByAddress(tx: Db, caller: Caller, address: string) {
  const [row] = await tx
    .select()
    .from(floatingIps)
    .where(and(eq(floatingIps.floatingIpAddress, canonicalIp(address)), caller.isAdmin ? undefined : eq(floatingIps.projectId, caller.projectId)))
    .for('update');
  return row;
}

/** Associates the floating IP at `address` with the server's port that holds `fixedAddress`, or with
 * its first port that has an IPv4 address, as Nova's addFloatingIp does. */
export async function addServerFloatingIp(tx: Db, caller: Caller, server: ServerRef, address: string, fixedAddress?: string): Promise<void> {
  const fip = await floatingIpByAddress(tx, caller, address);
  if (!fip) throw notFound('floating IP not found');
  const found = await Promise.all((await serverPorts(tx, server)).map((p) => findPort(tx, { projectId: '', isAdmin: true }, p.id)));
  const withV4 = found.filter((p) => p.fixedIps.some((f) => ipVersion(f.ipAddress) === 4));
  if (!withV4.length)
    throw badRequest(
      `Unable to associate floating IP ${address} to fixed IP ${fixedAddress ?? ''} for instance ${server.id}. Instance has no fixed IPv4 addresses to associate.`,
    );
  let port = withV4[0]!;
  if (fixedAddress !== undefined) {
    const holder = found.find((p) => p.fixedIps.some((f) => f.ipAddress === canonicalIp(fixedAddress)));
    if (!holder) throw badRequest('Specified fixed address not assigned to instance');
    port = holder;
  }
  await updateFloatingIp(tx, caller, fip.id, { portId: port.id, fixedIpAddress: fixedAddress });
}

/** Lets go of the floating IP at `address`, which must stand for one of the server's ports. */
export async function removeServerFloatingIp(tx: Db, caller: Caller, server: ServerRef, address: string): Promise<void> {
  const fip = await floatingIpByAddress(tx, caller, address);
  if (!fip) throw notFound('floating IP not found');
  const mine = (await serverPorts(tx, server)).some((p) => p.id === fip.portId);
  if (!mine) throw conflict(`Floating IP ${address} is not associated with instance ${server.id}.`);
  await updateFloatingIp(tx, caller, fip.id, { portId: null });
}
