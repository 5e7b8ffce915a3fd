import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { domains, endpoints, projects, regions, roles, services, users } from './tables.ts';
import { DEFAULT_DOMAIN_ID, newId } from './ids.ts';
import { createRole } from './roles.ts';
import { createProject } from './projects.ts';
import { createUser, updateUser } from './users.ts';
import { verifyPassword } from './passwords.ts';
import { grantRole } from './assignments.ts';
import { grantSystemRole } from './system.ts';
import type { Identity } from './identity.ts';

export interface CatalogService {
  type: string;
  name: string;
  /** The endpoint URL below the cloud's public URL, e.g. `/compute/v2.1`. */
  path: string;
  /** What `path` is below when the service answers elsewhere than the cloud's port (radosgw). */
  base?: string;
}

/** A daemon that validates its clients' tokens with Keystone (radosgw): a user of the `service`
 * project with the `service` role, as OpenStack deployments make one per service. */
export interface ServiceUser {
  name: string;
  password: string;
}

export interface BootstrapOptions {
  publicUrl: string;
  region: string;
  services: CatalogService[];
  /** Used only when the admin user is created; a random one is made when absent. */
  adminPassword?: string;
  serviceUsers?: ServiceUser[];
}

/** The admin's password when this start created the admin user, otherwise undefined. */
export type BootstrapResult = { adminPassword?: string };

/**
 * Makes the store hold what a cloud needs before its first request, and nothing twice: the
 * Default domain, the admin/member/reader roles, the admin project and user, the region and every
 * service's endpoints (their URLs follow the public URL of this start). Safe to run at every start
 * and from several controllers at once.
 */
export async function bootstrap(identity: Identity, opts: BootstrapOptions): Promise<BootstrapResult> {
  return identity.change(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7469383)`);
    await tx.insert(domains).values({ id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain' }).onConflictDoNothing();
    const roleIds: Record<string, string> = {};
    for (const name of ['admin', 'member', 'reader']) {
      const [row] = await tx.select().from(roles).where(eq(roles.name, name));
      roleIds[name] = (row ?? (await createRole(tx, { name }))).id;
    }
    const [project] = await tx
      .select()
      .from(projects)
      .where(and(eq(projects.name, 'admin'), eq(projects.domainId, DEFAULT_DOMAIN_ID)));
    const adminProject =
      project ?? (await createProject(tx, { name: 'admin', domainId: DEFAULT_DOMAIN_ID, description: 'Bootstrap project for the cloud administrator' }));
    const [existing] = await tx
      .select()
      .from(users)
      .where(and(eq(users.name, 'admin'), eq(users.domainId, DEFAULT_DOMAIN_ID)));
    let adminPassword: string | undefined;
    if (!existing) {
      adminPassword = opts.adminPassword ?? randomBytes(12).toString('base64url');
      const admin = await createUser(tx, { name: 'admin', domainId: DEFAULT_DOMAIN_ID, password: adminPassword, defaultProjectId: adminProject.id });
      await grantRole(tx, admin.id, 'project', adminProject.id, roleIds.admin!);
      // As Keystone's bootstrap: the admin may also ask for system-scoped tokens.
      await grantSystemRole(tx, admin.id, roleIds.admin!);
    }
    await tx.insert(regions).values({ id: opts.region, description: '' }).onConflictDoNothing();
    for (const s of opts.services) await upsertService(tx, s, opts);
    if (opts.serviceUsers?.length) await upsertServiceUsers(tx, opts.serviceUsers);
    return { adminPassword };
  });
}

/** The service project and role, and each service user with the password it is configured with
 * (set again when it no longer matches, so that the daemon's file stays the truth). */
async function upsertServiceUsers(tx: Db, wanted: ServiceUser[]): Promise<void> {
  const [role] = await tx.select().from(roles).where(eq(roles.name, 'service'));
  const serviceRole = role ?? (await createRole(tx, { name: 'service' }));
  const [project] = await tx
    .select()
    .from(projects)
    .where(and(eq(projects.name, 'service'), eq(projects.domainId, DEFAULT_DOMAIN_ID)));
  const serviceProject = project ?? (await createProject(tx, { name: 'service', domainId: DEFAULT_DOMAIN_ID, description: 'Users of the services that validate tokens' }));
  for (const { name, password } of wanted) {
    const [found] = await tx
      .select()
      .from(users)
      .where(and(eq(users.name, name), eq(users.domainId, DEFAULT_DOMAIN_ID)));
    const user = found ?? (await createUser(tx, { name, domainId: DEFAULT_DOMAIN_ID, password, defaultProjectId: serviceProject.id }));
    if (found && !(await verifyPassword(password, found.passwordHash))) await updateUser(tx, found.id, { password });
    await grantRole(tx, user.id, 'project', serviceProject.id, serviceRole.id);
  }
}

async function upsertService(tx: Db, s: CatalogService, opts: BootstrapOptions): Promise<void> {
  const [found] = await tx.select().from(services).where(eq(services.type, s.type));
  const serviceId = found?.id ?? newId();
  if (!found) await tx.insert(services).values({ id: serviceId, type: s.type, name: s.name });
  const url = (s.base ?? opts.publicUrl) + s.path;
  for (const iface of ['public', 'internal'] as const) {
    const [ep] = await tx
      .select()
      .from(endpoints)
      .where(and(eq(endpoints.serviceId, serviceId), eq(endpoints.interface, iface), eq(endpoints.regionId, opts.region)));
    if (!ep) await tx.insert(endpoints).values({ id: newId(), serviceId, interface: iface, regionId: opts.region, url });
    else if (ep.url !== url) await tx.update(endpoints).set({ url }).where(eq(endpoints.id, ep.id));
  }
}
