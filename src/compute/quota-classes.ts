import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { quotaClasses } from './tables.ts';

/** Nova serves one quota class, the one whose limits are every project's defaults. */
export const DEFAULT_CLASS = 'default';

/** A class's limits: the configured defaults with what an admin set for the class. */
export async function classLimits<T extends Record<string, number>>(db: Db, defaults: T, className = DEFAULT_CLASS): Promise<T> {
  const rows = await db.select().from(quotaClasses).where(eq(quotaClasses.className, className));
  const out: Record<string, number> = { ...defaults };
  for (const r of rows) if (Object.hasOwn(defaults, r.resource)) out[r.resource] = r.hardLimit;
  return out as T;
}

export async function setClassLimits(db: Db, className: string, limits: Record<string, number>): Promise<void> {
  for (const [resource, hardLimit] of Object.entries(limits)) {
    await db
      .insert(quotaClasses)
      .values({ className, resource, hardLimit })
      .onConflictDoUpdate({ target: [quotaClasses.className, quotaClasses.resource], set: { hardLimit } });
  }
}
