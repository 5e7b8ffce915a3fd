import { count, eq, sql, sum } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { overQuota } from '../lib/errors.ts';
import { keypairs, quotas, servers } from './tables.ts';
import { classLimits } from './quota-classes.ts';

/** Nova's compute quota resources and their default limits (-1: unlimited). */
export const QUOTA_DEFAULTS = {
  instances: 10,
  cores: 20,
  ram: 51200,
  key_pairs: 100,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  server_groups: 10,
  server_group_members: 10,
  // Shown at 2.1 for compatibility; the network service enforces its own.
  fixed_ips: -1,
  floating_ips: -1,
  security_groups: -1,
  security_group_rules: -1,
} as const;

export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
export type QuotaSet = Record<QuotaResource, number>;
export const isQuotaResource = (k: string): k is QuotaResource => Object.hasOwn(QUOTA_DEFAULTS, k);

/** What a project holds now, for the resources that are counted. */
export type Usage = Pick<QuotaSet, 'instances' | 'cores' | 'ram'>;

/**
 * Quota checks hold a per-project (per-user for key pairs) advisory lock until the transaction
 * ends: two requests that both count, then both insert, would otherwise pass the limit together.
 */
const lock = (tx: Db, key: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`compute-quota:${key}`}))`);

export async function limitsOf(db: Db, projectId: string, defaults: QuotaSet = QUOTA_DEFAULTS): Promise<QuotaSet> {
  const rows = await db.select().from(quotas).where(eq(quotas.projectId, projectId));
  const out = await classLimits(db, defaults);
  for (const r of rows) if (isQuotaResource(r.resource)) out[r.resource] = r.hardLimit;
  return out;
}

export async function setLimits(db: Db, projectId: string, limits: Partial<QuotaSet>): Promise<void> {
  for (const [resource, hardLimit] of Object.entries(limits)) {
    await db
      .insert(quotas)
      .values({ projectId, resource, hardLimit })
      .onConflictDoUpdate({ target: [quotas.projectId, quotas.resource], set: { hardLimit } });
  }
}

export const resetLimits = (db: Db, projectId: string) => db.delete(quotas).where(eq(quotas.projectId, projectId));

/** Servers count against their project until their record is gone. */
export async function usageOf(db: Db, projectId: string): Promise<Usage> {
  const [row] = await db
    .select({
      instances: count(),
      cores: sum(sql`(${servers.flavor}->>'vcpus')::int`),
      ram: sum(sql`(${servers.flavor}->>'ram')::int`),
    })
    .from(servers)
    .where(eq(servers.projectId, projectId));
  return { instances: row?.instances ?? 0, cores: Number(row?.cores ?? 0), ram: Number(row?.ram ?? 0) };
}

export interface Quotas {
  /** Locks the project's quota and checks that `n` more servers of this size fit; call it in the
   * transaction that inserts them. Nova's 403 when they do not. */
  reserveServers(tx: Db, projectId: string, n: number, size: { vcpus: number; ram: number }): Promise<void>;
  /** Locks the project's quota and checks that the servers' cores and RAM may grow by `delta`
   * (a resize to a bigger flavor; parts that shrink are not checked, as Nova checks them). */
  reserveGrowth(tx: Db, projectId: string, delta: { vcpus: number; ram: number }): Promise<void>;
  /** Key pairs belong to a user; the limit is the one of the project the user is working in. */
  reserveKeypair(tx: Db, userId: string, projectId: string | undefined): Promise<void>;
  checkMetadata(db: Db, projectId: string, items: number): Promise<void>;
}

export function createQuotas(defaults: QuotaSet = QUOTA_DEFAULTS): Quotas {
  async function reserve(tx: Db, projectId: string, wanted: Usage): Promise<void> {
    await lock(tx, projectId);
    const [limits, used] = await Promise.all([limitsOf(tx, projectId, defaults), usageOf(tx, projectId)]);
    const over = (Object.keys(wanted) as (keyof Usage)[]).filter((r) => wanted[r] > 0 && limits[r] >= 0 && used[r] + wanted[r] > limits[r]);
    if (over.length) {
      const list = (f: (r: keyof Usage) => number) => over.map(f).join(', ');
      throw overQuota(
        `Quota exceeded for ${over.join(', ')}: Requested ${list((r) => wanted[r])}, but already used ${list((r) => used[r])} of ${list((r) => limits[r])} ${over.join(', ')}`,
      );
    }
  }
  return {
    reserveServers: (tx, projectId, n, size) => reserve(tx, projectId, { instances: n, cores: n * size.vcpus, ram: n * size.ram }),
    reserveGrowth: (tx, projectId, delta) => reserve(tx, projectId, { instances: 0, cores: Math.max(0, delta.vcpus), ram: Math.max(0, delta.ram) }),
    async reserveKeypair(tx, userId, projectId) {
      await lock(tx, `user:${userId}`);
      const [row] = await tx.select({ n: count() }).from(keypairs).where(eq(keypairs.userId, userId));
      const limit = projectId ? (await limitsOf(tx, projectId, defaults)).key_pairs : defaults.key_pairs;
      if (limit >= 0 && (row?.n ?? 0) >= limit) throw overQuota('Quota exceeded, too many key pairs.');
    },
    async checkMetadata(db, projectId, items) {
      const { metadata_items: limit } = await limitsOf(db, projectId, defaults);
      if (limit >= 0 && items > limit) throw overQuota(`Quota exceeded for metadata_items: the limit is ${limit}, ${items} were given`);
    },
  };
}
