import type { FastifyInstance, FastifyRequest } from 'fastify';
import { inArray } from 'drizzle-orm';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { forbidden, notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Identity } from '../identity.ts';
import { roles } from '../tables.ts';
import { assertNotAppCredential, createTrust, deleteTrust, getTrust, listTrusts, type Trust } from '../trusts.ts';
import { listLinks, roleView, selfLink } from './views.ts';
import { isoTime, parseExpiry } from './times.ts';

const RoleRef = Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) });
const CreateBody = Type.Object({
  trust: Type.Object({
    trustor_user_id: Type.String(),
    trustee_user_id: Type.String(),
    impersonation: Type.Boolean(),
    project_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    roles: Type.Optional(Type.Array(RoleRef)),
    expires_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    remaining_uses: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    allow_redelegation: Type.Optional(Type.Literal(false)),
  }),
});
const ListQuery = Type.Object({ trustor_user_id: Type.Optional(Type.String()), trustee_user_id: Type.Optional(Type.String()) });
const ById = Type.Object({ trust_id: Type.String() });
const RoleParams = Type.Object({ trust_id: Type.String(), role_id: Type.String() });

const trustPath = (id: string) => `OS-TRUST/trusts/${id}`;

/** Keystone's trust body; a list leaves the roles out. */
export function trustView(base: string, t: Trust, roleRefs?: { id: string; name: string; description: string | null }[]) {
  return {
    id: t.id,
    trustor_user_id: t.trustorUserId,
    trustee_user_id: t.trusteeUserId,
    project_id: t.projectId,
    impersonation: t.impersonation,
    expires_at: t.expiresAt ? isoTime(t.expiresAt) : null,
    remaining_uses: t.remainingUses,
    allow_redelegation: false,
    redelegation_count: 0,
    redelegated_trust_id: null,
    deleted_at: null,
    ...(roleRefs
      ? { roles: roleRefs.map((r) => roleView(base, r)), roles_links: { self: `${base}/identity/v3/${trustPath(t.id)}/roles`, previous: null, next: null } }
      : {}),
    links: selfLink(base, trustPath(t.id)),
  };
}

async function rolesOf(db: Db, t: Trust) {
  if (!t.roleIds.length) return [];
  const rows = await db.select({ id: roles.id, name: roles.name, description: roles.description }).from(roles).where(inArray(roles.id, t.roleIds));
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

const isAdmin = (request: FastifyRequest) => allows('identity:admin_required', authOf(request));

/** The trust, if the caller is its trustor or trustee (or an administrator). */
async function visibleTrust(db: Db, request: FastifyRequest, id: string, who: 'trustor' | 'either' = 'either'): Promise<Trust> {
  const auth = authOf(request);
  assertNotAppCredential(auth);
  const trust = await getTrust(db, id);
  const related = auth.userId === trust.trustorUserId || (who === 'either' && auth.userId === trust.trusteeUserId);
  if (!related && !isAdmin(request)) throw forbidden('Requested user has no relation to this trust.');
  return trust;
}

/** OS-TRUST: delegation of a trustor's roles on a project to a trustee, who then asks for
 * trust-scoped tokens (POST /v3/auth/tokens with scope OS-TRUST:trust). */
export function trustRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const base = '/v3/OS-TRUST/trusts';

  api.post(base, { config: { policy: 'identity:create_trust' }, schema: { body: CreateBody } }, async (request, reply) => {
    const input = request.body.trust;
    const trust = await identity.change((tx) =>
      createTrust(tx, authOf(request), {
        trustorUserId: input.trustor_user_id,
        trusteeUserId: input.trustee_user_id,
        projectId: input.project_id,
        impersonation: input.impersonation,
        roles: input.roles,
        expiresAt: parseExpiry(input.expires_at),
        remainingUses: input.remaining_uses,
      }),
    );
    return reply.status(201).send({ trust: trustView(request.publicUrl, trust, await rolesOf(db, trust)) });
  });

  // Keystone's rules: everyone's trusts for an administrator; a user lists those it gave or got.
  api.get(base, { config: { policy: 'identity:list_trusts' }, schema: { querystring: ListQuery } }, async (request) => {
    const auth = authOf(request);
    assertNotAppCredential(auth);
    const { trustor_user_id: trustor, trustee_user_id: trustee } = request.query;
    const own = (trustor !== undefined && trustor === auth.userId) || (trustee !== undefined && trustee === auth.userId);
    if (!own && !isAdmin(request)) throw forbidden(`Policy doesn't allow identity:list_trusts to be performed.`);
    const rows = await listTrusts(db, { trustorUserId: trustor, trusteeUserId: trustee });
    return { trusts: rows.map((t) => trustView(request.publicUrl, t)), links: listLinks(request.publicUrl, 'OS-TRUST/trusts') };
  });

  api.get(`${base}/:trust_id`, { config: { policy: 'identity:get_trust' }, schema: { params: ById } }, async (request) => {
    const trust = await visibleTrust(db, request, request.params.trust_id);
    return { trust: trustView(request.publicUrl, trust, await rolesOf(db, trust)) };
  });

  api.delete(`${base}/:trust_id`, { config: { policy: 'identity:delete_trust' }, schema: { params: ById } }, async (request, reply) => {
    await visibleTrust(db, request, request.params.trust_id, 'trustor');
    await identity.change((tx) => deleteTrust(tx, request.params.trust_id));
    return reply.status(204).send();
  });

  api.get(`${base}/:trust_id/roles`, { config: { policy: 'identity:list_roles_for_trust' }, schema: { params: ById } }, async (request) => {
    const trust = await visibleTrust(db, request, request.params.trust_id);
    return {
      roles: (await rolesOf(db, trust)).map((r) => roleView(request.publicUrl, r)),
      links: listLinks(request.publicUrl, `${trustPath(trust.id)}/roles`),
    };
  });

  api.get(`${base}/:trust_id/roles/:role_id`, { config: { policy: 'identity:get_role_for_trust' }, schema: { params: RoleParams } }, async (request) => {
    const trust = await visibleTrust(db, request, request.params.trust_id);
    const role = (await rolesOf(db, trust)).find((r) => r.id === request.params.role_id);
    if (!role) throw notFound(`Could not find role: ${request.params.role_id}.`);
    return { role: roleView(request.publicUrl, role) };
  });
}
