import { boolean, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, unique, index, type AnyPgColumn } from 'drizzle-orm/pg-core';

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const domains = pgTable('identity_domains', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: created(),
});

export const projects = pgTable(
  'identity_projects',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id')
      .notNull()
      .references(() => domains.id),
    /** The project above this one; null for a project at the top of its domain. */
    parentId: text('parent_id').references((): AnyPgColumn => projects.id),
    description: text('description').notNull().default(''),
    enabled: boolean('enabled').notNull().default(true),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    createdAt: created(),
  },
  (t) => [unique().on(t.domainId, t.name), index().on(t.parentId)],
);

export const users = pgTable(
  'identity_users',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id')
      .notNull()
      .references(() => domains.id),
    passwordHash: text('password_hash'),
    enabled: boolean('enabled').notNull().default(true),
    defaultProjectId: text('default_project_id'),
    description: text('description'),
    email: text('email'),
    /** Null: the password never expires ([security_compliance] password_expires_days). */
    passwordExpiresAt: timestamp('password_expires_at', { withTimezone: true }),
    /** Hashes of the passwords before the current one, newest last (unique_last_password_count). */
    passwordHistory: jsonb('password_history').$type<string[]>().notNull().default([]),
    /** Failed password logins since the last success, for lockout_failure_attempts. */
    failedAuthCount: integer('failed_auth_count').notNull().default(0),
    failedAuthAt: timestamp('failed_auth_at', { withTimezone: true }),
    createdAt: created(),
  },
  (t) => [unique().on(t.domainId, t.name)],
);

export const roles = pgTable('identity_roles', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description'),
  createdAt: created(),
});

/** A role granted to a user on a project or a domain; an inherited one applies to the projects
 * below the target instead (OS-INHERIT). */
export const assignments = pgTable(
  'identity_assignments',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    targetType: text('target_type', { enum: ['project', 'domain'] }).notNull(),
    targetId: text('target_id').notNull(),
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    inherited: boolean('inherited').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.userId, t.targetType, t.targetId, t.roleId, t.inherited] }), index().on(t.targetId)],
);

export const groups = pgTable(
  'identity_groups',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id')
      .notNull()
      .references(() => domains.id),
    description: text('description').notNull().default(''),
    createdAt: created(),
  },
  (t) => [unique().on(t.domainId, t.name)],
);

export const groupMembers = pgTable(
  'identity_group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index().on(t.userId)],
);

/** A role granted to a group, held by each of its members; the same shape as a user's. */
export const groupAssignments = pgTable(
  'identity_group_assignments',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    targetType: text('target_type', { enum: ['project', 'domain'] }).notNull(),
    targetId: text('target_id').notNull(),
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    inherited: boolean('inherited').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.targetType, t.targetId, t.roleId, t.inherited] }), index().on(t.targetId)],
);

export const applicationCredentials = pgTable(
  'identity_application_credentials',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    secretHash: text('secret_hash').notNull(),
    description: text('description'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    unrestricted: boolean('unrestricted').notNull().default(false),
    roleIds: jsonb('role_ids').$type<string[]>().notNull(),
    createdAt: created(),
  },
  (t) => [unique().on(t.userId, t.name)],
);

/** A call an application credential may make, kept per user so that credentials share it by id. */
export const accessRules = pgTable(
  'identity_access_rules',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    service: text('service').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
  },
  (t) => [unique().on(t.userId, t.service, t.method, t.path)],
);

/** The access rules of an application credential, in the order they were given. A rule in use
 * cannot be deleted. */
export const appCredentialAccessRules = pgTable(
  'identity_app_credential_rules',
  {
    credentialId: text('credential_id')
      .notNull()
      .references(() => applicationCredentials.id, { onDelete: 'cascade' }),
    ruleId: text('rule_id')
      .notNull()
      .references(() => accessRules.id),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.credentialId, t.ruleId] }), index().on(t.ruleId)],
);

export const regions = pgTable('identity_regions', {
  id: text('id').primaryKey(),
  description: text('description').notNull().default(''),
  parentRegionId: text('parent_region_id').references((): AnyPgColumn => regions.id, { onDelete: 'cascade' }),
  /** Attributes Keystone keeps and echoes without knowing them (openstack region create sends enabled). */
  extra: jsonb('extra').$type<Record<string, unknown>>().notNull().default({}),
});

export const services = pgTable('identity_services', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  name: text('name').notNull(),
  description: text('description'),
  enabled: boolean('enabled').notNull().default(true),
});

export const endpoints = pgTable('identity_endpoints', {
  id: text('id').primaryKey(),
  serviceId: text('service_id')
    .notNull()
    .references(() => services.id, { onDelete: 'cascade' }),
  interface: text('interface', { enum: ['public', 'internal', 'admin'] }).notNull(),
  regionId: text('region_id').references(() => regions.id),
  url: text('url').notNull(),
  enabled: boolean('enabled').notNull().default(true),
});

/** Tokens are not stored; revoking one records an event that matches it (and its kind) until it
 * would have expired anyway. */
export const revocations = pgTable('identity_revocations', {
  id: serial('id').primaryKey(),
  auditId: text('audit_id'),
  userId: text('user_id'),
  projectId: text('project_id'),
  issuedBefore: timestamp('issued_before', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** The symmetric keys that encrypt tokens, shared by every controller through the store. */
export const tokenKeys = pgTable('identity_token_keys', {
  id: integer('id').primaryKey(),
  key: text('key').notNull(),
  createdAt: created(),
});

/** A role granted to a user on the whole deployment (Keystone's system scope). */
export const systemAssignments = pgTable(
  'identity_system_assignments',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] })],
);

/** A role granted to a group on the whole deployment: its members hold it in system-scoped tokens. */
export const systemGroupAssignments = pgTable(
  'identity_system_group_assignments',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    roleId: text('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.roleId] })],
);

/** A trustor's delegation of some of its roles on a project to a trustee (OS-TRUST). */
export const trusts = pgTable(
  'identity_trusts',
  {
    id: text('id').primaryKey(),
    trustorUserId: text('trustor_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    trusteeUserId: text('trustee_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    impersonation: boolean('impersonation').notNull(),
    roleIds: jsonb('role_ids').$type<string[]>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** Null: no limit; otherwise the tokens the trust may still issue. */
    remainingUses: integer('remaining_uses'),
    createdAt: created(),
  },
  (t) => [index().on(t.trustorUserId), index().on(t.trusteeUserId)],
);

/** A secret kept for a user (ec2, cert, totp…), sealed with the data directory's credential key
 * (credential-key.ts); an ec2 one's id is the SHA-256 of its access key. */
export const credentials = pgTable(
  'identity_credentials',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: text('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    encryptedBlob: text('encrypted_blob').notNull(),
    /** Which key sealed the blob. */
    keyHash: text('key_hash').notNull(),
    createdAt: created(),
  },
  (t) => [index().on(t.userId)],
);

/** Endpoints chosen by their service, region or interface (OS-EP-FILTER). */
export const endpointGroups = pgTable('identity_endpoint_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  filters: jsonb('filters').$type<{ service_id?: string; region_id?: string; interface?: string }>().notNull(),
});

/** A project restricted to the endpoints its groups match (and those given one by one). */
export const projectEndpointGroups = pgTable(
  'identity_project_endpoint_groups',
  {
    endpointGroupId: text('endpoint_group_id')
      .notNull()
      .references(() => endpointGroups.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.endpointGroupId, t.projectId] }), index().on(t.projectId)],
);

export const projectEndpoints = pgTable(
  'identity_project_endpoints',
  {
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.projectId] }), index().on(t.projectId)],
);

/** Keystone's /v3/policies: opaque documents with their media type. */
export const policies = pgTable('identity_policies', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  blob: text('blob').notNull(),
});
