// The PostgreSQL role of one `nubo agent` host: it logs in with a password of its own, reads what
// agents read, and writes only what agents write; the row-level security policies of migration
// 0030 confine those writes to its host's rows (docs/multi-host.md). Made and dropped by an
// operator whose role owns the tables and may create roles (`nubo host-credential`).

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { eq, sql, type SQL } from 'drizzle-orm';
import { hostRoles } from '../../compute/tables.ts';
import type { Db } from './db.ts';

/** The tables an agent reads: its own services' (identity_*, orchestration_*, lb_* and any
 * table added later under another prefix stay closed: password hashes, token keys, credentials,
 * stack parameters). */
const READ_PREFIXES = ['compute_', 'network_', 'volume_', 'image_', 'telemetry_'];

/** What the agents of a host write (compute agent, network agent, heartbeats, telemetry collector),
 * table by table. Those with policies in migration 0030 are confined to the host's rows; the
 * others are open to every host for now. */
const WRITES: Record<string, string> = {
  compute_servers: 'UPDATE, DELETE',
  compute_hosts: 'INSERT, UPDATE',
  compute_services: 'INSERT, UPDATE',
  compute_snapshots: 'INSERT, DELETE',
  compute_instance_actions: 'INSERT, UPDATE',
  compute_instance_action_events: 'INSERT, UPDATE',
  compute_migrations: 'UPDATE',
  compute_host_calls: 'UPDATE',
  compute_host_keys: 'INSERT',
  compute_migration_keys: 'INSERT',
  compute_terminated_servers: 'INSERT',
  network_agents: 'INSERT, UPDATE, DELETE',
  network_ports: 'UPDATE, DELETE',
  network_ip_allocations: 'DELETE',
  network_port_security_groups: 'DELETE',
  network_floating_ips: 'UPDATE',
  volume_attachments: 'UPDATE, DELETE',
  volume_volumes: 'UPDATE',
  image_images: 'UPDATE, DELETE',
  telemetry_archive_policies: 'INSERT',
  telemetry_resources: 'INSERT, UPDATE',
  telemetry_metrics: 'INSERT, UPDATE',
  telemetry_aggregates: 'INSERT, UPDATE, DELETE',
};

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Serialises the statements on roles' grants within a database: PostgreSQL refuses a GRANT on an
 * object whose ACL another open transaction has just changed ("tuple concurrently updated"), as
 * when two hosts get their credentials at once. Held until the transaction ends. */
const lockGrants = (tx: Db) => tx.execute(sql`select pg_advisory_xact_lock(hashtext('nubo host roles'))`);

/** The rows of a query, as both drivers (node-postgres and PGlite) return them. */
const rowsOf = async <T>(db: Db, query: SQL): Promise<T[]> => ((await db.execute(query)) as unknown as { rows: T[] }).rows;

/** The default role name: the database's and the host's, so that clouds sharing a PostgreSQL
 * server (roles are the server's, not a database's) do not collide. */
export async function defaultRoleName(db: Db, host: string): Promise<string> {
  const rows = await rowsOf<{ name: string }>(db, sql`select current_database() as name`);
  return `${rows[0]!.name}_${host}`;
}

/**
 * Makes the role of host with a new random password and returns it: the password is not kept
 * anywhere but in PostgreSQL's SCRAM verifier, sent instead of the password so that no statement
 * log shows it.
 */
export async function createHostRole(tx: Db, host: string, role: string): Promise<{ role: string; password: string }> {
  // PostgreSQL's limit on names (NAMEDATALEN - 1 bytes); a longer one would be cut silently.
  if (Buffer.byteLength(role) > 63) throw new Error(`role name ${role} is longer than 63 bytes: give a shorter one with --role`);
  await lockGrants(tx);
  const [taken] = await tx.select().from(hostRoles).where(eq(hostRoles.host, host));
  if (taken) throw new Error(`host ${host} has a role already (${taken.roleName}): delete it first to make a new one`);
  const password = randomBytes(24).toString('base64url');
  await tx.execute(sql.raw(`CREATE ROLE ${ident(role)} LOGIN PASSWORD '${scramVerifier(password)}'`));
  await tx.insert(hostRoles).values({ roleName: role, host });
  await grantHostRole(tx, role);
  return { role, password };
}

/** Grants role what agents need on the tables there are now; run again after a migration adds one. */
export async function grantHostRole(tx: Db, role: string): Promise<void> {
  const r = ident(role);
  await lockGrants(tx);
  const rows = await rowsOf<{ schema: string; table: string }>(
    tx,
    sql`select current_schema() as schema, tablename as table from pg_tables where schemaname = current_schema()`,
  );
  const schema = ident(rows[0]?.schema ?? 'public');
  await tx.execute(sql.raw(`GRANT USAGE ON SCHEMA ${schema} TO ${r}`));
  for (const { table } of rows) {
    if (!READ_PREFIXES.some((p) => table.startsWith(p))) continue;
    await tx.execute(sql.raw(`GRANT SELECT${WRITES[table] ? `, ${WRITES[table]}` : ''} ON ${schema}.${ident(table)} TO ${r}`));
  }
  await tx.execute(sql.raw(`GRANT SELECT ON ${schema}.${ident('compute_host_roles')} TO ${r}`));
  await tx.execute(sql.raw(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${r}`));
  // So that the agent sees the database is up to date and leaves migrating to the controllers.
  await tx.execute(sql.raw(`GRANT USAGE ON SCHEMA drizzle TO ${r}`));
  await tx.execute(sql.raw(`GRANT SELECT ON drizzle.__drizzle_migrations TO ${r}`));
}

/** Drops the role of host, with every grant it had here; false when host has none. */
export async function deleteHostRole(tx: Db, host: string): Promise<boolean> {
  const [row] = await tx.delete(hostRoles).where(eq(hostRoles.host, host)).returning();
  if (!row) return false;
  await lockGrants(tx);
  const r = ident(row.roleName);
  const rows = await rowsOf<{ schema: string }>(tx, sql`select current_schema() as schema`);
  const schema = ident(rows[0]!.schema);
  for (const stmt of [
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${r}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${r}`,
    `REVOKE ALL ON SCHEMA ${schema} FROM ${r}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA drizzle FROM ${r}`,
    `REVOKE ALL ON SCHEMA drizzle FROM ${r}`,
    `DROP ROLE ${r}`,
  ])
    await tx.execute(sql.raw(stmt));
  return true;
}

/** PostgreSQL's SCRAM-SHA-256 verifier of password (RFC 5802, RFC 7677), as pg_authid keeps it; password is ASCII, which SASLprep leaves as it is. */
function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
