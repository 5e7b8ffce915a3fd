import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { servers } from './tables.ts';

/** What telemetry records of a server: its owner, name, flavor and image. */
export interface MeteredServer {
  id: string;
  projectId: string;
  userId: string;
  name: string;
  imageId: string;
  flavor: { id: string; name: string; vcpus: number; ram: number };
}

/** The servers placed on a host, as telemetry meters them. */
export async function serversOnHost(db: Db, host: string): Promise<MeteredServer[]> {
  const rows = await db
    .select({ id: servers.id, projectId: servers.projectId, userId: servers.userId, name: servers.name, imageId: servers.imageId, flavor: servers.flavor })
    .from(servers)
    .where(eq(servers.host, host));
  return rows.map((r) => ({ ...r, flavor: { id: r.flavor.id, name: r.flavor.name, vcpus: r.flavor.vcpus, ram: r.flavor.ram } }));
}
