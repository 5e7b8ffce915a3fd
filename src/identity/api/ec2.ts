import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { notFound, unauthorized } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { getUser } from '../users.ts';
import { getProject } from '../projects.ts';
import { deleteCredential, ec2CredentialId, findCredential } from '../credentials.ts';
import {
  asEc2,
  asEc2Request,
  asS3Request,
  createEc2,
  delegationOf,
  ec2Token,
  listEc2,
  signedRequestOf,
  verifyEc2,
  verifyS3,
  type Ec2Credential,
} from '../ec2.ts';
import { checkDelegation } from './credentials.ts';
import { listLinks, selfLink, tokenView } from './views.ts';

export const ec2View = (base: string, c: Ec2Credential) => ({
  user_id: c.userId,
  tenant_id: c.projectId,
  access: c.access,
  secret: c.secret,
  trust_id: c.trustId,
  links: selfLink(base, `users/${c.userId}/credentials/OS-EC2/${c.access}`),
});

const UserParams = Type.Object({ user_id: Type.String() });
const AccessParams = Type.Object({ user_id: Type.String(), credential_id: Type.String() });

/** OS-EC2: access keys and secrets for S3 and EC2 clients, and the two calls with which an
 * object store or an EC2 API checks the requests signed with them. */
export function ec2Routes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const key = identity.credentialKey;
  const base = (userId: string) => `users/${userId}/credentials/OS-EC2`;

  /** The user's ec2 credential of an access key; Keystone answers 404 for a key it does not
   * know and 401 for a credential of another type. */
  const ownEc2 = async (userId: string, access: string) => {
    await getUser(db, userId);
    const id = ec2CredentialId(access);
    const cred = await findCredential(db, key, id);
    if (!cred || cred.userId !== userId) throw notFound(`Could not find credential: ${id}.`);
    if (cred.type.toLowerCase() !== 'ec2') throw unauthorized('EC2 access key not found.');
    return asEc2(cred);
  };

  api.get(`/v3/users/:user_id/credentials/OS-EC2`, { config: { policy: 'identity:ec2_list_credentials' }, schema: { params: UserParams } }, async (request) => {
    const auth = authOf(request);
    await getUser(db, request.params.user_id);
    const delegated = auth.applicationCredentialId || auth.trust;
    const creds = (await listEc2(db, key, request.params.user_id)).filter((c) => !delegated || c.projectId === auth.project?.id);
    return { credentials: creds.map((c) => ec2View(request.publicUrl, c)), links: listLinks(request.publicUrl, base(request.params.user_id)) };
  });
  api.post(
    `/v3/users/:user_id/credentials/OS-EC2`,
    { config: { policy: 'identity:ec2_create_credential' }, schema: { params: UserParams, body: Type.Object({ tenant_id: Type.String({ minLength: 1 }) }) } },
    async (request, reply) => {
      const { user_id } = request.params;
      const projectId = request.body.tenant_id;
      const auth = authOf(request);
      checkDelegation(auth, projectId, true);
      const cred = await identity.store.tx(async (tx) => {
        await getUser(tx, user_id);
        await getProject(tx, projectId);
        return createEc2(tx, key, user_id, projectId, delegationOf(auth));
      });
      return reply.status(201).send({ credential: ec2View(request.publicUrl, cred) });
    },
  );
  api.get(
    `/v3/users/:user_id/credentials/OS-EC2/:credential_id`,
    { config: { policy: 'identity:ec2_get_credential' }, schema: { params: AccessParams } },
    async (request) => {
      const cred = await ownEc2(request.params.user_id, request.params.credential_id);
      checkDelegation(authOf(request), cred.projectId);
      return { credential: ec2View(request.publicUrl, cred) };
    },
  );
  api.delete(
    `/v3/users/:user_id/credentials/OS-EC2/:credential_id`,
    { config: { policy: 'identity:ec2_delete_credential' }, schema: { params: AccessParams } },
    async (request, reply) => {
      const cred = await ownEc2(request.params.user_id, request.params.credential_id);
      checkDelegation(authOf(request), cred.projectId);
      await identity.store.tx((tx) => deleteCredential(tx, ec2CredentialId(cred.access)));
      return reply.status(204).send();
    },
  );

  // Asked by a service (radosgw, an EC2 API) with its own token: a request signed with a secret
  // must not by itself let anyone turn a presigned URL into a token.
  api.post('/v3/ec2tokens', { config: { policy: 'identity:ec2tokens_validate' } }, async (request, reply) => {
    const cred = await verifyEc2(db, key, asEc2Request(signedRequestOf(request.body)));
    const ctx = await ec2Token(cred, identity.options.tokenTtl, identity.tokens);
    return reply.header('x-subject-token', ctx.token).send(tokenView(ctx, await identity.catalogFor(ctx)));
  });
  api.post('/v3/s3tokens', { config: { policy: 'identity:s3tokens_validate' } }, async (request) => {
    const cred = await verifyS3(db, key, asS3Request(signedRequestOf(request.body)));
    const ctx = await ec2Token(cred, identity.options.tokenTtl, identity.tokens);
    return tokenView(ctx, await identity.catalogFor(ctx));
  });
}
