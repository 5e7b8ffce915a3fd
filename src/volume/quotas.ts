import { count, eq, sql, sum } from 'drizzle-orm';
import { badRequest, overQuota } from '../lib/errors.ts';
import type { Db } from '../lib/store/db.ts';
import { backups, quotas, snapshots, volumes, volumeTypes } from './tables.ts';

/** Cinder's project quota resources and their default limits (-1: unlimited). */
export const QUOTA_DEFAULTS = { volumes: 10, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10, per_volume_gigabytes: -1 };
/** Resources counted per volume type, named `<resource>_<type name>`, unlimited by default. */
export const PER_TYPE = ['volumes', 'snapshots', 'gigabytes'] as const;
type Counted = (typeof PER_TYPE)[number];

export type QuotaSet = Record<string, number>;

/** The resource names a project's quota set holds: the global ones and each type's. */
async function resourceNames(db: Db): Promise<string[]> {
  const types = await db.select({ name: volumeTypes.name }).from(volumeTypes);
  return [...Object.keys(QUOTA_DEFAULTS), ...types.flatMap((t) => PER_TYPE.map((r) => `${r}_${t.name}`))];
}

const defaultOf = (resource: string) => (QUOTA_DEFAULTS as Record<string, number>)[resource] ?? -1;

export async function defaultsOf(db: Db): Promise<QuotaSet> {
  return Object.fromEntries((await resourceNames(db)).map((r) => [r, defaultOf(r)]));
}

export async function limitsOf(db: Db, projectId: string): Promise<QuotaSet> {
  const out = await defaultsOf(db);
  for (const r of await db.select().from(quotas).where(eq(quotas.projectId, projectId))) if (r.resource in out) out[r.resource] = r.hardLimit;
  return out;
}

/** What a project holds: volumes and their GiB, snapshots and their GiB (which count as gigabytes
 * too, as Cinder counts them by default), overall and per type; backups and their GiB. */
export async function usageOf(db: Db, projectId: string): Promise<QuotaSet> {
  const out: QuotaSet = Object.fromEntries((await resourceNames(db)).map((r) => [r, 0]));
  const vols = await db
    .select({ type: volumeTypes.name, n: count(), gb: sum(volumes.size) })
    .from(volumes)
    .innerJoin(volumeTypes, eq(volumeTypes.id, volumes.volumeTypeId))
    .where(eq(volumes.projectId, projectId))
    .groupBy(volumeTypes.name);
  const snaps = await db
    .select({ type: volumeTypes.name, n: count(), gb: sum(snapshots.size) })
    .from(snapshots)
    .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
    .innerJoin(volumeTypes, eq(volumeTypes.id, volumes.volumeTypeId))
    .where(eq(snapshots.projectId, projectId))
    .groupBy(volumeTypes.name);
  const [held] = await db
    .select({ n: count(), gb: sum(backups.size) })
    .from(backups)
    .where(eq(backups.projectId, projectId));
  const add = (resource: string, n: number) => (out[resource] = (out[resource] ?? 0) + n);
  add('backups', held?.n ?? 0), add('backup_gigabytes', Number(held?.gb ?? 0));
  for (const v of vols) {
    add('volumes', v.n), add(`volumes_${v.type}`, v.n), add('gigabytes', Number(v.gb)), add(`gigabytes_${v.type}`, Number(v.gb));
  }
  for (const s of snaps) {
    add('snapshots', s.n), add(`snapshots_${s.type}`, s.n), add('gigabytes', Number(s.gb)), add(`gigabytes_${s.type}`, Number(s.gb));
  }
  return out;
}

export async function setLimits(db: Db, projectId: string, limits: QuotaSet): Promise<void> {
  const known = new Set(await resourceNames(db));
  for (const [resource, hardLimit] of Object.entries(limits)) {
    if (!known.has(resource)) throw badRequest(`Bad key(s) in quota set: ${resource}`);
    if (!Number.isInteger(hardLimit) || hardLimit < -1 || hardLimit > 2 ** 31 - 1) throw badRequest(`Quota limit ${resource} must be an integer from -1 to ${2 ** 31 - 1}.`);
    await db
      .insert(quotas)
      .values({ projectId, resource, hardLimit })
      .onConflictDoUpdate({ target: [quotas.projectId, quotas.resource], set: { hardLimit } });
  }
}

export const resetLimits = (db: Db, projectId: string) => db.delete(quotas).where(eq(quotas.projectId, projectId));

/** Serializes a project's quota checks until the transaction ends, so that two creates cannot pass
 * the limit together. */
const lock = (tx: Db, projectId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`volume-quota:${projectId}`}))`);

/**
 * Checks, in the transaction that records them, that the project may hold `adding` more of each
 * resource of a type; throws Cinder's 413 otherwise. `size` is the GiB of one volume, for
 * per_volume_gigabytes.
 */
export async function reserve(tx: Db, projectId: string, typeName: string, adding: Partial<Record<Counted, number>>, size?: number): Promise<void> {
  await lock(tx, projectId);
  const limits = await limitsOf(tx, projectId);
  if (size !== undefined && limits.per_volume_gigabytes! >= 0 && size > limits.per_volume_gigabytes!) {
    throw overQuota(`VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit ${limits.per_volume_gigabytes}G.`, 413);
  }
  const used = await usageOf(tx, projectId);
  for (const [resource, n] of Object.entries(adding) as [Counted, number][]) {
    if (!n) continue;
    for (const name of [resource, `${resource}_${typeName}`]) {
      const limit = limits[name] ?? -1;
      const consumed = used[name] ?? 0;
      if (limit < 0 || consumed + n <= limit) continue;
      if (resource === 'gigabytes') {
        throw overQuota(`VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${name} quota. Requested ${n}G, quota is ${limit}G and ${consumed}G has been consumed.`, 413);
      }
      const what = resource === 'volumes' ? 'VolumeLimitExceeded: Maximum number of volumes' : 'SnapshotLimitExceeded: Maximum number of snapshots';
      throw overQuota(`${what} allowed (${limit}) exceeded for quota '${name}'.`, 413);
    }
  }
}

/** reserve() for one more backup of `size` GiB: Cinder's backups and backup_gigabytes. */
export async function reserveBackup(tx: Db, projectId: string, size: number): Promise<void> {
  await lock(tx, projectId);
  const limits = await limitsOf(tx, projectId);
  const used = await usageOf(tx, projectId);
  if (limits.backups! >= 0 && used.backups! + 1 > limits.backups!) throw overQuota(`BackupLimitExceeded: Maximum number of backups allowed (${limits.backups}) exceeded.`, 413);
  if (limits.backup_gigabytes! >= 0 && used.backup_gigabytes! + size > limits.backup_gigabytes!) {
    throw overQuota(
      `VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ${size}G, quota is ${limits.backup_gigabytes}G and ${used.backup_gigabytes}G has been consumed.`,
      413,
    );
  }
}
