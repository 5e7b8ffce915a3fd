import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { openstackMessage } from '../helpers/error-format.ts';

// Hostile input on every route of every service: whatever arrives, the answer is a 2xx or a 4xx
// in the service's error format, never a 5xx, and nothing is logged as an error. The seed is
// fixed so that a failure reproduces; NUBO_FUZZ_SEED and NUBO_FUZZ_ROUNDS explore further.
const SEED = Number(process.env.NUBO_FUZZ_SEED ?? 20261205);
const ROUNDS = Number(process.env.NUBO_FUZZ_ROUNDS ?? 5);

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const deep = (levels: number): unknown => {
  let value: unknown = {};
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

/** Stand-ins for numbers JSON can write but JavaScript cannot hold; replaced in the raw text. */
const RAW_NUMBERS: Record<string, string> = { '@@huge@@': '1e400', '@@tiny@@': '-1e400', '@@long@@': '123456789012345678901234567890' };

const HOSTILE_STRINGS = ['\u0000', 'x\u0000y', '\ud800', 'a\udfffb', 'x'.repeat(64 * 1024), '', ' ', '../../../etc/passwd', "'; drop table x; --", '%00', '\u202e\u0301', '😀'.repeat(300), '-1', 'null', '9'.repeat(40), 'NaN', '1e400', 'true'];
const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_STRINGS,
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  [],
  {},
  [[[]]],
  { a: { b: null } },
  deep(200),
  ...Object.keys(RAW_NUMBERS),
];
/** Whole bodies, as raw text. */
const HOSTILE_BODIES = ['['.repeat(10_000) + ']'.repeat(10_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), '1e400', '"\\u0000"', '{"a":"\\ud800"}', 'null', '[]', '{', '\u0000', 'x'.repeat(100_000)];

type Schema = Record<string, any>;

/** A plausible value for a schema: a body that passes validation reaches deeper code. */
function plausible(schema: Schema | undefined, rng: Rng, depth = 0): unknown {
  if (!schema || depth > 6) return 'fuzz';
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum);
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) return plausible(rng.pick(schema.anyOf ?? schema.oneOf), rng, depth + 1);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s: Schema) => plausible(s, rng, depth + 1)));
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(schema.required ?? []);
      for (const [key, sub] of Object.entries<Schema>(schema.properties ?? {})) {
        if (required.has(key) || rng.chance(0.5)) out[key] = plausible(sub, rng, depth + 1);
      }
      const extra = Object.values<Schema>(schema.patternProperties ?? {})[0] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (extra) out[`k${Math.floor(rng.next() * 100)}`] = plausible(extra, rng, depth + 1);
      return out;
    }
    case 'array':
      return [plausible(schema.items, rng, depth + 1)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'string':
      if (schema.format === 'uuid') return crypto.randomUUID();
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.format?.startsWith('ipv4')) return '10.0.0.5';
      return 'fuzz'.padEnd(schema.minLength ?? 0, 'z');
    default:
      return 'fuzz';
  }
}

/** Replaces one node of a value (or the value itself) by a hostile one. */
function spoil(value: unknown, rng: Rng): unknown {
  if (value === null || typeof value !== 'object' || rng.chance(0.15)) return rng.pick(HOSTILE_VALUES);
  const keys = Object.keys(value);
  if (!keys.length || rng.chance(0.2)) {
    const key = rng.chance(0.7) ? rng.pick(HOSTILE_STRINGS.filter((s) => s.length < 100)) || 'empty' : 'extra';
    return Array.isArray(value) ? [...value, rng.pick(HOSTILE_VALUES)] : { ...value, [key]: rng.pick(HOSTILE_VALUES) };
  }
  const key = rng.pick(keys);
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  copy[key] = spoil(copy[key], rng);
  return copy;
}

/** Percent-encodes what encodeURIComponent cannot (lone surrogates) as the invalid UTF-8 that
 * a client could send. */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^%\w]/g, (ch) => encodeURIComponent(ch));
  }
};

let c: TestCloud;
let admin: string;
const logs: string[] = [];
/** Ids of things that exist, so that some requests reach past "not found". None is the admin's. */
const pool: string[] = [];

before(async () => {
  c = await startTestCloud({ log: pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) }) });
  admin = await c.adminToken();
  const make = async (path: string, body: unknown, pick: (b: any) => string) => {
    const res = await c.request('POST', path, { token: admin, body });
    assert.ok(res.status < 300, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    pool.push(pick(res.body));
  };
  await make('/identity/v3/projects', { project: { name: 'fuzz-project' } }, (b) => b.project.id);
  await make('/identity/v3/users', { user: { name: 'fuzz-user', password: 'fuzz-password-1' } }, (b) => b.user.id);
  await make('/identity/v3/roles', { role: { name: 'fuzz-role' } }, (b) => b.role.id);
  await make('/image/v2/images', { name: 'fuzz-image', disk_format: 'raw', container_format: 'bare' }, (b) => b.id);
  await make('/networking/v2.0/networks', { network: { name: 'fuzz-net' } }, (b) => b.network.id);
  await make('/networking/v2.0/security-groups', { security_group: { name: 'fuzz-sg' } }, (b) => b.security_group.id);
  await make('/compute/v2.1/flavors', { flavor: { name: 'fuzz-flavor', ram: 64, vcpus: 1, disk: 1 } }, (b) => b.flavor.id);
  await make('/compute/v2.1/os-keypairs', { keypair: { name: 'fuzz-key' } }, (b) => b.keypair.name);
});
after(() => c?.stop());

test('hostile input on every route of every service gets a 2xx or a 4xx in the service format, never a 5xx', async () => {
  const rng = prng(SEED);
  const routes = c.cloud.app.routeIndex.routes.filter((r) => r.method !== 'HEAD');
  const failures: string[] = [];
  let sent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of routes) {
      const path = route.url.replace(/:[^/]+/g, () => encode(rng.chance(0.4) ? rng.pick(pool) : String(rng.pick(HOSTILE_VALUES))));
      const query = new URLSearchParams();
      const known = Object.keys((route.schema?.querystring as Schema)?.properties ?? {});
      for (const key of [...known.filter(() => rng.chance(0.3)), rng.pick(['name', 'limit', 'marker', 'sort_key', 'id', 'fields', 'tags'])]) {
        query.append(key, String(rng.pick(HOSTILE_VALUES)));
      }
      const qs = query.toString().replaceAll('%EF%BF%BD', '%ED%A0%80');
      let raw: string | undefined;
      if (route.method !== 'GET' && route.method !== 'DELETE') {
        raw = rng.chance(0.15)
          ? rng.pick(HOSTILE_BODIES)
          : JSON.stringify(spoil(plausible(route.schema?.body as Schema, rng), rng)).replace(/"(@@\w+@@)"/g, (_, k: string) => RAW_NUMBERS[k]!);
      }
      const url = `${path}${qs ? `?${qs}` : ''}`;
      const where = `${route.method} ${route.url} (round ${round}, seed ${SEED}): ${url.slice(0, 200)} ${raw?.slice(0, 200) ?? ''}`;
      sent++;
      try {
        const res = await c.request(route.method, url, { token: admin, raw, headers: raw === undefined ? {} : { 'content-type': 'application/json' } });
        if (res.status >= 500) failures.push(`${where} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        else if (res.status >= 400 && !openstackMessage(route.url.split('/')[1]!, res.body)) failures.push(`${where} -> ${res.status} not in the service format: ${JSON.stringify(res.body).slice(0, 300)}`);
      } catch (err) {
        failures.push(`${where} -> ${(err as Error).message} ${String((err as Error).cause ?? '')}`);
      }
    }
  }
  assert.ok(sent > routes.length * ROUNDS - 1);
  assert.deepEqual(failures.slice(0, 30), [], `${failures.length} failures`);
  const errors = logs.filter((l) => /"level":(50|60)/.test(l) || l.includes('"stack"'));
  assert.deepEqual(errors.slice(0, 5).map((l) => l.slice(0, 600)), []);
});
