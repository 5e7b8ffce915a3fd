import { and, asc, count, eq } from 'drizzle-orm';
import { conflict, forbidden, notFound, overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { members, type MemberStatus } from './tables.ts';
import { getOwned, getVisible, type Caller, type Image } from './access.ts';

export type Member = typeof members.$inferSelect;

/** Glance's default limit on the projects one image is shared with. */
const MAX_MEMBERS = 128;

function onlyShared(image: Image): void {
  if (image.visibility !== 'shared') throw forbidden('Only shared images have members.');
}

/** The owner adds a project, whose membership starts pending until that project answers. */
export async function addMember(tx: Db, c: Caller, imageId: string, memberId: string): Promise<Member> {
  const image = await getOwned(tx, c, imageId, 'share');
  onlyShared(image);
  const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(members).where(eq(members.imageId, imageId));
  if (n >= MAX_MEMBERS) throw overQuota(`Image member limit exceeded for image ${imageId}: at most ${MAX_MEMBERS} members.`, 413);
  const [row] = await tx.insert(members).values({ imageId, memberId }).onConflictDoNothing().returning();
  if (!row) throw conflict(`Member ${memberId} is duplicated for image ${imageId}`);
  return row;
}

/** The owner sees every member; a member sees only its own membership. */
export async function listMembers(db: Db, c: Caller, imageId: string): Promise<Member[]> {
  const image = await getVisible(db, c, imageId);
  onlyShared(image);
  const mine = c.admin || image.owner === c.projectId;
  return db
    .select()
    .from(members)
    .where(and(eq(members.imageId, imageId), mine ? undefined : eq(members.memberId, c.projectId)))
    .orderBy(asc(members.createdAt), asc(members.memberId));
}

export async function getMember(db: Db, c: Caller, imageId: string, memberId: string): Promise<Member> {
  const image = await getVisible(db, c, imageId);
  const mine = c.admin || image.owner === c.projectId;
  const [row] = mine || memberId === c.projectId ? await db.select().from(members).where(and(eq(members.imageId, imageId), eq(members.memberId, memberId))) : [];
  if (!row) throw notFound(`${memberId} not found in the member list of the image ${imageId}.`);
  return row;
}

/** Only the member project itself accepts, rejects or returns to pending. */
export async function setMemberStatus(tx: Db, c: Caller, imageId: string, memberId: string, status: MemberStatus): Promise<Member> {
  await getMember(tx, c, imageId, memberId);
  if (memberId !== c.projectId) throw forbidden("You are not permitted to modify 'status' on this image member.");
  const [row] = await tx
    .update(members)
    .set({ status, updatedAt: new Date() })
    .where(and(eq(members.imageId, imageId), eq(members.memberId, memberId)))
    .returning();
  return row!;
}

export async function removeMember(tx: Db, c: Caller, imageId: string, memberId: string): Promise<void> {
  await getOwned(tx, c, imageId, 'unshare');
  const gone = await tx.delete(members).where(and(eq(members.imageId, imageId), eq(members.memberId, memberId))).returning();
  if (!gone.length) throw notFound(`${memberId} not found in the member list of the image ${imageId}.`);
}
