import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { bootImage } from '../image/for-compute.ts';
import { checkLock, checkState, getServer, setSpec } from './servers.ts';
import { servers } from './tables.ts';

// Nova's rescue: the server booted from a rescue image (its own by default) with its disk as the
// second disk, until unrescue boots it from its own disk again.

export async function rescueServer(tx: Db, auth: AuthContext, id: string, imageRef: string | undefined): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'rescue');
  // Nova rescues a volume-backed server from 2.87 only, with a stable device layout this cloud lacks.
  if (!s.imageId) throw badRequest('Cannot rescue a volume-backed instance');
  let rescueImageId: string | null = null;
  if (imageRef) {
    const image = await bootImage(tx, auth, imageRef).catch(() => {
      throw badRequest(`Image ${imageRef} could not be found.`);
    });
    if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
    if (image.diskFormat !== 'qcow2' && image.diskFormat !== 'raw') throw badRequest(`Image ${image.id} is ${image.diskFormat}: a rescue boots a qcow2 or raw image.`);
    rescueImageId = image.id;
  }
  await tx.update(servers).set({ rescueImageId }).where(eq(servers.id, s.id));
  await setSpec(tx, s, { power: 'rescued' });
}

export async function unrescueServer(tx: Db, auth: AuthContext, id: string): Promise<void> {
  const s = await getServer(tx, auth, id, true);
  checkLock(auth, s);
  await checkState(tx, s, 'unrescue');
  await setSpec(tx, s, { power: 'running' });
}
