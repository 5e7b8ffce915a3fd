import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { getKeypair } from './keypairs.ts';
import type { Quotas } from './quotas.ts';
import { checkLock, checkState, getServer, imageToBoot, setSpec, type Server } from './servers.ts';
import { servers } from './tables.ts';

// Nova's rebuild: the same server (id, ports, addresses, volumes) on a fresh root disk made from
// an image, optionally with a new name, metadata, key pair or user data; the host's agent
// replaces the guest's disk and starts it again.

export interface RebuildRequest {
  imageRef: string;
  name?: string;
  metadata?: Record<string, string>;
  description?: string | null;
  /** null removes the server's key pair (2.54). */
  keyName?: string | null;
  /** null removes the user data (2.57). */
  userData?: string | null;
  hostname?: string;
  accessIpv4?: string;
  accessIpv6?: string;
}

export async function rebuildServer(tx: Db, auth: AuthContext, id: string, req: RebuildRequest, quotas: Quotas): Promise<Server> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'rebuild');
  // Its disk is a volume: Nova rebuilds it (2.93) by reimaging the volume, which this cloud does not do.
  // A server that failed before it had a host has no host to rebuild it: it can only be deleted.
  if (!s.host) throw conflict(`Cannot 'rebuild' instance ${s.id} while it is in vm_state ${s.vmState}: it has no host`);
  if (!s.imageId) throw badRequest(`Instance ${s.id} boots from a volume: rebuilding a volume-backed server is not supported by this cloud.`);
  const image = await imageToBoot(tx, auth, req.imageRef, s.flavor);
  const change: Partial<Server> = { imageId: image.id, rebuilds: s.rebuilds + 1 };
  if (req.keyName !== undefined) {
    const key = req.keyName === null ? undefined : await getKeypair(tx, auth.userId, req.keyName).catch(() => undefined);
    if (req.keyName !== null && !key) throw badRequest('Invalid key_name provided.');
    Object.assign(change, { keyName: key?.name ?? null, keyData: key?.publicKey ?? null });
  }
  if (req.metadata) {
    await quotas.checkMetadata(tx, s.projectId, Object.keys(req.metadata).length);
    change.metadata = req.metadata;
  }
  for (const field of ['name', 'description', 'userData', 'hostname', 'accessIpv4', 'accessIpv6'] as const) {
    if (req[field] !== undefined) Object.assign(change, { [field]: req[field] });
  }
  await tx.update(servers).set(change).where(eq(servers.id, s.id));
  await setSpec(tx, s, {});
  return getServer(tx, auth, id);
}
