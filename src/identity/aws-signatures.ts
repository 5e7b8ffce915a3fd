import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../lib/errors.ts';

// The AWS signatures that Keystone checks for EC2 and S3 credentials: the signer (a client, or
// radosgw on its behalf) sends what it signed, the signature and the access key; Keystone redoes
// the signature with the secret it keeps. Pure functions: no store, no clock but the one given.

const hmac = (key: Buffer | string, data: Buffer | string, algo: 'sha1' | 'sha256') => createHmac(algo, key).update(data).digest();
const sha256hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Constant-time comparison of two signatures as text. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The SigV4 signing key of a date, region and service. */
function v4Key(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date, 'sha256'), region, 'sha256'), service, 'sha256'), 'aws4_request', 'sha256');
}

/**
 * The signature of an S3 request's string to sign (the `token` of /v3/s3tokens, decoded):
 * SigV4 when it starts with AWS4, otherwise the HMAC-SHA1 of signature version 2.
 */
export function s3Signature(stringToSign: Buffer, secret: string): string {
  if (stringToSign.subarray(0, 4).toString('latin1') !== 'AWS4') return hmac(secret, stringToSign, 'sha1').toString('base64');
  const parts = stringToSign.toString('utf8').split('\n');
  const scope = parts[2]?.split('/') ?? [];
  if (parts.length !== 4 || parts[0] !== 'AWS4-HMAC-SHA256' || scope.length !== 4 || scope[3] !== 'aws4_request' || !['s3', 'iam', 'sts'].includes(scope[2]!)) {
    throw unauthorized('Invalid EC2 signature.');
  }
  return hmac(v4Key(secret, scope[0]!, scope[1]!, scope[2]!), stringToSign, 'sha256').toString('hex');
}

/** What an EC2 API endpoint forwards to /v3/ec2tokens about the request it received. */
export interface Ec2Request {
  access: string;
  signature?: string;
  host?: string;
  verb?: string;
  path?: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body_hash?: string;
}

/** RFC 3986 percent-encoding: everything but letters, digits and -_.~ */
const quote = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const canonicalQuery = (params: Record<string, string>) =>
  Object.keys(params)
    .sort()
    .map((k) => `${quote(k)}=${quote(String(params[k]))}`)
    .join('&');

function signatureV2(r: Ec2Request, host: string, secret: string): string {
  // Keystone's signer always answers with HMAC-SHA256 and says so among the signed parameters.
  const params = { ...r.params, SignatureMethod: 'HmacSHA256' };
  const text = `${r.verb ?? ''}\n${host}\n${r.path ?? ''}\n${canonicalQuery(params)}`;
  return hmac(secret, text, 'sha256').toString('base64');
}

function signatureV4(r: Ec2Request, secret: string): string {
  const params = r.params ?? {};
  const headers = r.headers ?? {};
  const authorization = headers.Authorization;
  const authParam = (name: string) =>
    authorization !== undefined ? (authorization.split(`${name}=`)[1] ?? '').split(',')[0]! : (params[`X-Amz-${name}`] ?? '');
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase().trim(), String(v).trim()]));
  const signedHeaders = authParam('SignedHeaders');
  const canonicalHeaders = signedHeaders
    .split(';')
    .filter((h) => lower.has(h))
    .map((h) => `${h}:${lower.get(h)}`)
    .join('\n');
  const verb = (r.verb ?? '').toUpperCase();
  const request = [verb, r.path ?? '', verb === 'POST' ? '' : canonicalQuery(params), `${canonicalHeaders}\n`, signedHeaders, r.body_hash ?? ''].join('\n');
  const credential = authParam('Credential').split('/');
  if (credential.length !== 5) throw unauthorized('Invalid EC2 signature.');
  const [, date, region, service] = credential as [string, string, string, string];
  const amzDate = headers['X-Amz-Date'] ?? params['X-Amz-Date'] ?? '';
  if (!amzDate.startsWith(date)) throw unauthorized('Invalid EC2 signature.');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credential.slice(1).join('/'), sha256hex(request)].join('\n');
  return hmac(v4Key(secret, date, region, service), toSign, 'sha256').toString('hex');
}

const isV4 = (r: Ec2Request) => r.headers?.Authorization?.startsWith('AWS4-HMAC-SHA256') || r.params?.['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256';

/**
 * Checks the signature of an EC2 request (signature version 2, or SigV4 by header or by query),
 * as Keystone does: a signature made without the port of the host is accepted too, since some
 * clients leave it out. Versions 0 and 1 (which sign no host and no path) are refused.
 */
export function checkEc2Signature(r: Ec2Request, secret: string): void {
  if (!r.signature) throw unauthorized('EC2 signature not supplied.');
  const version = r.params?.SignatureVersion;
  if (version === '2') {
    const host = r.host ?? '';
    if (sameSignature(r.signature, signatureV2(r, host, secret))) return;
    const bare = host.replace(/:\d+$/, '');
    if (bare !== host && sameSignature(r.signature, signatureV2(r, bare, secret))) return;
  } else if (isV4(r)) {
    if (sameSignature(r.signature, signatureV4(r, secret))) return;
  } else {
    throw unauthorized(version === undefined ? 'Unexpected signature format.' : `Unknown signature version: ${version}.`);
  }
  throw unauthorized('Invalid EC2 signature.');
}

/** How long a signed request stays acceptable ([credential] auth_ttl, 15 minutes). */
const AUTH_TTL_MS = 15 * 60_000;

/** Refuses a signed request whose timestamp is older than the allowed window; a request that
 * signs no timestamp is its signer's choice and passes. */
export function checkTimestamp(r: Pick<Ec2Request, 'params' | 'headers'>, now = Date.now()): void {
  const stamp = r.params?.Timestamp ?? r.headers?.['X-Amz-Date'] ?? r.params?.['X-Amz-Date'];
  if (!stamp) return;
  // SigV4's basic format (20261205T163000Z) or ISO 8601 with separators.
  const basic = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(stamp);
  const at = basic
    ? Date.UTC(+basic[1]!, +basic[2]! - 1, +basic[3]!, +basic[4]!, +basic[5]!, +basic[6]!)
    : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(stamp) ? stamp : `${stamp}Z`);
  if (Number.isNaN(at)) throw unauthorized(`Credential timestamp is invalid: ${stamp}`);
  if (now > at + AUTH_TTL_MS) throw unauthorized('Credential is expired');
}
