import { eq } from 'drizzle-orm';
import { conflict, notFound } from '../lib/errors.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { allows } from '../lib/http/policy.ts';
import { notify, type Db } from '../lib/store/db.ts';
import { attachServerPort, detachServerPort, serverInterfaces, type InterfaceRequest, type ServerInterface } from '../network/server-interfaces.ts';
import { getServer, SERVERS_CHANNEL, taskStateOf, type Server } from './servers.ts';
import { servers, type RequestedNic } from './tables.ts';

// Nova's side of os-interface: which server states allow a port to be attached or detached, and
// which ports the user gave (kept at detach and delete). The server's agent hot-plugs the NIC.

/** The vm_states in which Nova attaches and detaches interfaces; a stopped server gets them at its next start. */
const PLUGGABLE: Server['vmState'][] = ['active', 'paused', 'stopped'];

function checkState(auth: AuthContext, s: Server, action: 'attach_interface' | 'detach_interface'): void {
  if (s.lockedBy && !allows('compute:context_is_admin', auth)) throw conflict(`Instance ${s.id} is locked`);
  const task = taskStateOf(s);
  if (task) throw conflict(`Cannot '${action}' instance ${s.id} while it is in task_state ${task}`);
  if (!PLUGGABLE.includes(s.vmState)) throw conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
}

/** The ports the user gave the server, at create or attach. */
const givenPorts = (s: Server): RequestedNic[] => (Array.isArray(s.networks) ? s.networks : []);

export async function listInterfaces(db: Db, auth: AuthContext, serverId: string): Promise<ServerInterface[]> {
  return serverInterfaces(db, await getServer(db, auth, serverId));
}

export async function showInterface(db: Db, auth: AuthContext, serverId: string, portId: string): Promise<ServerInterface> {
  const [found] = await serverInterfaces(db, await getServer(db, auth, serverId), portId);
  if (!found) throw notFound(`Instance ${serverId} has no interface attachment ${portId}`);
  return found;
}

/** POST os-interface: the port is the server's at once; its host's agents wire and plug it. */
export async function attachInterface(tx: Db, auth: AuthContext, serverId: string, req: InterfaceRequest): Promise<ServerInterface> {
  const s = await getServer(tx, auth, serverId, true);
  checkState(auth, s, 'attach_interface');
  const { portId, given } = await attachServerPort(tx, s, req);
  // 'auto' and 'none' were asked at create and are done with: the list records given ports from now on.
  if (given)
    await tx
      .update(servers)
      .set({ networks: [...givenPorts(s), { portId }] })
      .where(eq(servers.id, s.id));
  await notify(tx, SERVERS_CHANNEL, s.id);
  const [attached] = await serverInterfaces(tx, s, portId);
  return attached!;
}

/** DELETE os-interface/{port}: the port leaves the server; the agent unplugs the guest's NIC. */
export async function detachInterface(tx: Db, auth: AuthContext, serverId: string, portId: string): Promise<void> {
  const s = await getServer(tx, auth, serverId, true);
  checkState(auth, s, 'detach_interface');
  const given = givenPorts(s).some((n) => n.portId === portId);
  await detachServerPort(tx, s, portId, given);
  if (given)
    await tx
      .update(servers)
      .set({ networks: givenPorts(s).filter((n) => n.portId !== portId) })
      .where(eq(servers.id, s.id));
  await notify(tx, SERVERS_CHANNEL, s.id);
}
