// CONTRACT STUB: the ports/IPAM helper replaces the bodies; the signatures are what routers,
// floating IPs and compute call.
import type { Db } from '../lib/store/db.ts';
import type { AddressPair, ports } from './tables.ts';

export type PortRow = typeof ports.$inferSelect;

/** A port with its fixed IPs and security groups. */
export interface Port extends PortRow {
  fixedIps: { subnetId: string; ipAddress: string }[];
  securityGroups: string[];
}

export interface PortInput {
  networkId: string;
  /** The project that owns the port (for service ports of routers/floating IPs: the resource's). */
  projectId: string;
  name?: string;
  description?: string;
  macAddress?: string;
  /** Each entry: a subnet (allocate from its pools), an address (find its subnet), or both. Absent:
   * one address from each IPv4 subnet of the network with a free address (Neutron's default). */
  fixedIps?: { subnetId?: string; ipAddress?: string }[];
  deviceId?: string;
  deviceOwner?: string;
  adminStateUp?: boolean;
  /** Absent: the project's default group (when port security is on and the owner is not a
   * network: service). */
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  allowedAddressPairs?: AddressPair[];
  hostId?: string;
}

/** Creates a port inside tx: checks the network, quota, MAC and fixed IPs, allocates addresses,
 * and tells the agent. Throws the Neutron errors (404 NetworkNotFound, 409 IpAddressAlreadyAllocated,
 * 409 IpAddressGenerationFailure, 400 InvalidIpForSubnet…). */
export async function createPort(_tx: Db, _input: PortInput): Promise<Port> {
  throw new Error('not implemented');
}

export async function getPort(_db: Db, _id: string): Promise<Port> {
  throw new Error('not implemented');
}

/** Deletes a port and releases its addresses (no ownership checks: callers did them). */
export async function deletePort(_tx: Db, _id: string): Promise<void> {
  throw new Error('not implemented');
}
