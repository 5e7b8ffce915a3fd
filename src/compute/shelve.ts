import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { createSnapshotRecord, deleteProjectImage } from '../image/for-compute.ts';
import { ApiError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { ImageService } from '../image/index.ts';
import { checkLock, checkState, getServer, setSpec, type Server } from './servers.ts';
import { servers, snapshots } from './tables.ts';

// Nova's shelve: the server shut down and its disk written into an image named "<name>-shelved";
// then offloaded, its guest and disk removed from the host it leaves, once shelved_offload_time
// has passed or at shelveOffload. Unshelve starts it again where it is, or, offloaded, builds it
// again from that image with the ports and addresses it kept; the image goes once it runs.

export async function shelveServer(tx: Db, images: ImageService, auth: AuthContext, id: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'shelve');
  let imageId: string | null = null;
  // A server whose disk is a volume keeps it: there is nothing to write into an image.
  if (s.imageId) {
    const image = await createSnapshotRecord(tx, images, auth, `${s.name}-shelved`, {
      image_type: 'snapshot',
      instance_uuid: s.id,
      base_image_ref: s.imageId,
    });
    imageId = image.id;
    await tx.insert(snapshots).values({ imageId, serverId: s.id });
  }
  await tx.update(servers).set({ shelvedImageId: imageId, shelvedAt: null }).where(eq(servers.id, s.id));
  await setSpec(tx, s, { power: 'shelved' });
}

/** Deletes a server's shelved image: once it runs again from it, or with the server, as Nova's
 * delete of a shelved server does. Deleted by its owner meanwhile: nothing left to do. Refused
 * (protected, or a store that keeps it while a disk is cloned from it): the image stays. */
export async function deleteShelvedImage(images: ImageService, s: Pick<Server, 'id' | 'projectId' | 'shelvedImageId'>, log: Logger): Promise<void> {
  if (!s.shelvedImageId) return;
  await deleteProjectImage(images, s.projectId, s.shelvedImageId).catch((err) => {
    if (!(err instanceof ApiError && err.kind === 'NotFound')) log.warn({ server: s.id, image: s.shelvedImageId, err }, 'shelved image not deleted');
  });
}

export async function shelveOffload(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'shelveOffload');
  await setSpec(tx, s, { power: 'offloaded' });
}

/** Where unshelve may ask the server to go, from 2.77: this cloud has one zone. */
export interface UnshelveTarget {
  availability_zone?: string | null;
}

export async function unshelveServer(tx: Db, auth: AuthContext, id: string, target: UnshelveTarget | null): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'unshelve');
  const zone = target?.availability_zone;
  if (zone !== undefined && zone !== null && zone !== 'nova') throw badRequest(`The requested availability zone is not available`);
  // Offloaded, it has no host: the scheduler places it again and the agent builds it from its image.
  if (s.vmState === 'shelved_offloaded') await tx.update(servers).set({ vmState: 'building' }).where(eq(servers.id, s.id));
  await setSpec(tx, s, { power: 'running' });
}
