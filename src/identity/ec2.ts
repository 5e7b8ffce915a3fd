import type { Db } from '../lib/store/db.ts';
import type { AuthContext } from '../lib/http/auth.ts';
import { badRequest, notFound, unauthorized } from '../lib/errors.ts';
import type { CredentialKey } from './credential-key.ts';
import { createCredential, ec2Blob, ec2CredentialId, findCredential, listCredentials, type Credential } from './credentials.ts';
import { checkEc2Signature, checkTimestamp, s3Signature, sameSignature, type Ec2Request } from './aws-signatures.ts';
import type { TokenPayload } from './tokens.ts';
import { newId } from './ids.ts';

// EC2 credentials are credentials of type ec2 whose blob holds an access key and its secret; an
// object store (radosgw) or an EC2 API checks requests signed with them through Keystone.

export interface Ec2Credential {
  userId: string;
  projectId: string | null;
  access: string;
  secret: string;
  /** The trust or application credential of the token that made it: the tokens it gives are
   * bound to the same delegation, never more than it. */
  trustId: string | null;
  appCredId: string | null;
}

export function asEc2(c: Credential): Ec2Credential {
  const blob = ec2Blob(c.blob);
  return {
    userId: c.userId,
    projectId: c.projectId,
    access: blob.access,
    secret: blob.secret ?? '',
    trustId: blob.trust_id ?? null,
    appCredId: blob.app_cred_id ?? null,
  };
}

/** The delegation a token acts under, recorded in the ec2 credentials it makes. */
export const delegationOf = (auth: AuthContext) => ({ trustId: auth.trust?.id, appCredId: auth.applicationCredentialId });

/** A new access key and secret for a user on a project. */
export async function createEc2(
  db: Db,
  key: CredentialKey,
  userId: string,
  projectId: string,
  by: { trustId?: string; appCredId?: string } = {},
): Promise<Ec2Credential> {
  const blob = { access: newId(), secret: newId(), trust_id: by.trustId ?? null, ...(by.appCredId ? { app_cred_id: by.appCredId } : {}) };
  return asEc2(await createCredential(db, key, { userId, projectId, type: 'ec2', blob: JSON.stringify(blob) }));
}

export async function listEc2(db: Db, key: CredentialKey, userId: string): Promise<Ec2Credential[]> {
  return (await listCredentials(db, key, { userId, type: 'ec2' })).map(asEc2);
}

/** The ec2 credential of an access key, if there is one. */
export async function findEc2(db: Db, key: CredentialKey, access: string): Promise<Ec2Credential | undefined> {
  const cred = await findCredential(db, key, ec2CredentialId(access));
  return cred && cred.type.toLowerCase() === 'ec2' ? asEc2(cred) : undefined;
}

/** The body of /v3/s3tokens: what radosgw (or swift's s3api) received, as Keystone reads it. */
export interface S3Request {
  access?: string;
  token?: string;
  signature?: string;
}

/** The ec2 credential whose secret signed the request; 404 for an unknown access key, 401 for a
 * wrong signature, as Keystone answers. */
async function signedBy(db: Db, key: CredentialKey, access: string | undefined, check: (secret: string) => void): Promise<Ec2Credential> {
  if (typeof access !== 'string' || !access) throw unauthorized('EC2 Signature not supplied');
  const cred = await findEc2(db, key, access);
  if (!cred || !cred.projectId) throw notFound('EC2 access key not found.');
  check(cred.secret);
  return cred;
}

export function verifyS3(db: Db, key: CredentialKey, r: S3Request): Promise<Ec2Credential> {
  return signedBy(db, key, r.access, (secret) => {
    if (typeof r.token !== 'string' || typeof r.signature !== 'string') throw unauthorized('Credential signature mismatch');
    if (!sameSignature(r.signature, s3Signature(Buffer.from(r.token, 'base64'), secret))) throw unauthorized('Credential signature mismatch');
  });
}

export function verifyEc2(db: Db, key: CredentialKey, r: Ec2Request): Promise<Ec2Credential> {
  return signedBy(db, key, r.access, (secret) => {
    checkEc2Signature(r, secret);
    checkTimestamp(r);
  });
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const texts = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};

/** The signed request as the signature checks read it: text only, whatever the caller sent. */
export function asEc2Request(raw: Record<string, unknown>): Ec2Request {
  return {
    access: text(raw.access) ?? '',
    signature: text(raw.signature),
    host: text(raw.host),
    verb: text(raw.verb),
    path: text(raw.path),
    params: texts(raw.params),
    headers: texts(raw.headers),
    body_hash: text(raw.body_hash),
  };
}

export const asS3Request = (raw: Record<string, unknown>): S3Request => ({ access: text(raw.access), token: text(raw.token), signature: text(raw.signature) });

/** The three names Keystone accepts for the signed request in the body of ec2tokens and s3tokens. */
export function signedRequestOf(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Object.keys(body).length === 0) throw badRequest('request must include a request body');
  const b = body as Record<string, unknown>;
  const found = b.credentials ?? b.credential ?? b.ec2Credentials;
  return found && typeof found === 'object' ? (found as Record<string, unknown>) : {};
}

/** A token for the owner of the credential on its project, made by the `ec2credential` method. */
export async function ec2Token(
  cred: Ec2Credential,
  ttlSeconds: number,
  tokens: { encode(p: TokenPayload): string; validate(token: string): Promise<AuthContext> },
): Promise<AuthContext> {
  const now = Date.now();
  const token = tokens.encode({
    userId: cred.userId,
    projectId: cred.projectId!,
    methods: ['ec2credential'],
    issuedAt: now,
    expiresAt: now + ttlSeconds * 1000,
    auditIds: [newId().slice(0, 22)],
    ...(cred.trustId ? { trustId: cred.trustId } : {}),
    ...(cred.appCredId ? { applicationCredentialId: cred.appCredId } : {}),
  });
  // Validation builds the context from the store: a disabled user or project, a user without a
  // role on the project, a trust or application credential gone, gets no token; a delegation
  // gives its own roles only.
  return tokens.validate(token).catch((err) => {
    if (err?.status === 401) throw unauthorized('User not valid for project.');
    throw err;
  });
}
