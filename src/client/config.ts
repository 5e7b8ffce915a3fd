import { readCloud } from './clouds.ts';
import { ClientError } from './errors.ts';
import { requestedVersion } from './microversion.ts';
import type { Credentials, Ref, Scope, SessionOptions } from './session.ts';

/** The options the openstack CLI reads, by their clouds.yaml names. Each is also the variable
 * OS_<NAME> and the flag --os-<name> (underscores as dashes). */
export const OPTION_KEYS = [
  'cloud',
  'auth_url',
  'auth_type',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'default_domain',
  'token',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'region_name',
  'interface',
  'identity_api_version',
  'compute_api_version',
] as const;

export type OptionKey = (typeof OPTION_KEYS)[number];
export type Options = Partial<Record<OptionKey, string>>;

export const envName = (key: OptionKey) => `OS_${key.toUpperCase()}`;

// Keys clouds.yaml keeps beside `auth` rather than inside it.
const CLOUD_LEVEL = new Set<OptionKey>(['auth_type', 'region_name', 'interface', 'identity_api_version', 'compute_api_version']);
const known = new Set<string>(OPTION_KEYS);

const defined = (o: Options): Options => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

/** The OS_* variables that are set and not empty. */
export function fromEnv(env: NodeJS.ProcessEnv): Options {
  return defined(Object.fromEntries(OPTION_KEYS.map((key) => [key, env[envName(key)]])));
}

/** A clouds.yaml entry flattened to options: its `auth` mapping, the settings beside it, and the
 * first of `regions` when no region_name is given. */
export function fromCloud(entry: Record<string, unknown>): Options {
  const out: Options = {};
  const take = (key: string, value: unknown) => {
    if (known.has(key) && key !== 'cloud' && value !== null && typeof value !== 'object') out[key as OptionKey] = String(value);
  };
  // openstacksdk also accepts auth settings at the top level of an entry.
  for (const [key, value] of Object.entries(entry)) take(key, value);
  const auth = entry.auth;
  if (auth && typeof auth === 'object') for (const [key, value] of Object.entries(auth)) if (!CLOUD_LEVEL.has(key as OptionKey)) take(key, value);
  const regions = entry.regions;
  if (!out.region_name && Array.isArray(regions) && regions.length) {
    const first: unknown = regions[0];
    const name = typeof first === 'string' ? first : (first as { name?: unknown } | null)?.name;
    if (typeof name === 'string') out.region_name = name;
  }
  return defined(out);
}

/** Options from, strongest first: flags, OS_* variables, the cloud of clouds.yaml that
 * --os-cloud or OS_CLOUD names. */
export async function resolveOptions(flags: Options, env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<Options> {
  const vars = fromEnv(env);
  const cloud = flags.cloud || vars.cloud;
  const file = cloud ? fromCloud(await readCloud(cloud, env, cwd)) : {};
  return { ...file, ...vars, ...defined(flags) };
}

const AUTH_TYPES: Record<string, Credentials['method']> = {
  password: 'password',
  v3password: 'password',
  token: 'token',
  v3token: 'token',
  v3applicationcredential: 'application_credential',
  applicationcredential: 'application_credential',
};

function authMethod(o: Options): { method: Credentials['method']; name: string } {
  if (o.auth_type) {
    const method = AUTH_TYPES[o.auth_type];
    if (!method) throw new ClientError(`Unsupported auth type ${o.auth_type}; nubo knows ${Object.keys(AUTH_TYPES).join(', ')}.`);
    return { method, name: o.auth_type };
  }
  // Like openstackclient: a token without a password means token authentication.
  if (o.token && !o.password) return { method: 'token', name: 'token' };
  if (o.application_credential_secret && !o.password) return { method: 'application_credential', name: 'v3applicationcredential' };
  return { method: 'password', name: 'password' };
}

/** Turns options into what a session needs, or says which one is missing as keystoneauth does. */
export function sessionOptions(o: Options): SessionOptions {
  const { method, name } = authMethod(o);
  const missing = (option: string) => new ClientError(`Missing value ${option} required for auth plugin ${name}`);
  if (!o.auth_url) throw missing('auth-url');
  // openstackclient's default domain fills in the domains of the user and project when neither is given.
  const fallback = o.default_domain ?? 'default';
  const domain = (id?: string, domainName?: string) => (id ? { id } : domainName ? { name: domainName } : { id: fallback });
  const user = (): Ref | undefined =>
    o.user_id ? { id: o.user_id } : o.username ? { name: o.username, domain: domain(o.user_domain_id, o.user_domain_name) } : undefined;

  let credentials: Credentials;
  if (method === 'password') {
    const who = user();
    if (!who) throw missing('username');
    if (o.password === undefined) throw missing('password');
    credentials = { method, user: who, password: o.password };
  } else if (method === 'token') {
    if (!o.token) throw missing('token');
    credentials = { method, token: o.token };
  } else {
    if (!o.application_credential_secret) throw missing('application_credential_secret');
    if (!o.application_credential_id && !o.application_credential_name) throw missing('application_credential_id');
    const who = o.application_credential_id ? undefined : user();
    if (!o.application_credential_id && !who) throw missing('username');
    credentials = { method, id: o.application_credential_id, name: o.application_credential_name, user: who, secret: o.application_credential_secret };
  }

  const scopes: Scope[] = [];
  if (o.project_id || o.project_name) {
    scopes.push({ project: o.project_id ? { id: o.project_id } : { name: o.project_name, domain: domain(o.project_domain_id, o.project_domain_name) } });
  }
  if (o.domain_id || o.domain_name) scopes.push({ domain: o.domain_id ? { id: o.domain_id } : { name: o.domain_name } });
  if (scopes.length > 1 && method !== 'application_credential') {
    throw new ClientError('Authentication cannot be scoped to multiple targets. Pick one of: project, domain, trust, system or unscoped');
  }
  return {
    authUrl: o.auth_url,
    credentials,
    scope: scopes[0],
    region: o.region_name,
    interface: o.interface,
    ...(o.compute_api_version ? { computeApiVersion: requestedVersion(o.compute_api_version) } : {}),
  };
}
