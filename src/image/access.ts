import { and, eq, exists, inArray, or, sql, type SQL } from 'drizzle-orm';
import { forbidden, notFound } from '../lib/errors.ts';
import { allows } from '../lib/http/policy.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Db } from '../lib/store/db.ts';
import { images, members } from './tables.ts';

export type Image = typeof images.$inferSelect;

/** Who acts on images: a project, and what the policy lets it do beyond its own images. */
export interface Caller {
  projectId: string;
  /** The cloud administrator sees and changes every image, as Glance's admin does. */
  admin: boolean;
  mayPublicize: boolean;
  mayCommunitize: boolean;
}

export function callerOf(auth: AuthContext): Caller {
  if (!auth.project) throw forbidden('The image service needs a project-scoped token.');
  return {
    projectId: auth.project.id,
    admin: allows('image:context_is_admin', auth),
    mayPublicize: allows('image:publicize_image', auth),
    mayCommunitize: allows('image:communitize_image', auth),
  };
}

/** The caller is a member of the image, in any member status. */
export const memberOf = (projectId: string) =>
  exists(
    sql`(select 1 from ${members} where ${members.imageId} = ${images.id} and ${members.memberId} = ${projectId})`,
  );

/** Images the caller may look at by id: its own, public and community ones, and shared ones it
 * is a member of, whether or not it accepted them; undefined means every image. */
export function visibleTo(c: Caller): SQL | undefined {
  if (c.admin) return undefined;
  return or(
    eq(images.owner, c.projectId),
    inArray(images.visibility, ['public', 'community']),
    and(eq(images.visibility, 'shared'), memberOf(c.projectId)),
  );
}

/** An image the caller may see; any other is "not found", whether or not it exists. */
export async function getVisible(db: Db, c: Caller, id: string): Promise<Image> {
  const [row] = await db.select().from(images).where(and(eq(images.id, id), visibleTo(c)));
  if (!row) throw notFound(`No image found with ID ${id}`);
  return row;
}

/** An image the caller may change: its own (or any, for the admin); one it may only see is
 * forbidden, one it may not see is not found. The row is locked until the transaction ends. */
export async function getOwned(db: Db, c: Caller, id: string, action = 'modify'): Promise<Image> {
  const [row] = await db.select().from(images).where(and(eq(images.id, id), visibleTo(c))).for('update');
  if (!row) throw notFound(`No image found with ID ${id}`);
  if (!c.admin && row.owner !== c.projectId) throw forbidden(`You are not permitted to ${action} image ${id}.`);
  return row;
}
