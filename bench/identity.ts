// Token issue and validation: latency (p50/p99) and requests per second over 1,000 requests each,
// through HTTP, and the server-side cost of validating a token alone.
// Run: npx tsx bench/identity.ts
import { loadConfig } from '../src/config.ts';
import { startCloud } from '../src/main.ts';
import { createLogger } from '../src/lib/log.ts';
import { freePort, tempDir } from '../test/helpers/cloud.ts';
import { fmt, measure } from './stats.ts';

const N = 1000;
const port = await freePort();
const cloud = await startCloud(loadConfig({ port: String(port), dataDir: tempDir(), database: 'memory://' }, {}), createLogger('silent'));
const url = cloud.config.publicUrl;
const body = JSON.stringify({
  auth: {
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.credentials!.password } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } },
  },
});

async function issue(): Promise<string> {
  const res = await fetch(`${url}/identity/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`token issue: ${res.status}`);
  return res.headers.get('x-subject-token')!;
}

const token = await issue();
async function validate(): Promise<void> {
  const res = await fetch(`${url}/identity/v3/auth/tokens?nocatalog`, { headers: { 'x-auth-token': token, 'x-subject-token': token } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`token validate: ${res.status}`);
}

const row = (name: string, r: { p50: number; p99: number; perSecond: number }) =>
  console.log(`${name.padEnd(48)} p50 ${fmt(r.p50).padStart(9)}   p99 ${fmt(r.p99).padStart(9)}   ${r.perSecond.toFixed(0).padStart(6)} req/s`);

console.log(`identity bench: ${N} requests each, cloud in this process on ${url}`);
row('token issue (HTTP, 1 at a time)', await measure(N, 1, issue));
row('token issue (HTTP, 8 in flight)', await measure(N, 8, issue));
row('token validate (HTTP, 1 at a time)', await measure(N, 1, validate));
row('token validate (HTTP, 16 in flight)', await measure(N, 16, validate));
// Server side: what the auth hook spends on a token, cached and not (every identity change empties the cache).
row('server-side validation, cached', await measure(N, 1, () => cloud.identity.validate(token)));
row('server-side validation after an identity change', await measure(N, 1, async () => {
  await cloud.identity.tokens.refresh();
  await cloud.identity.validate(token);
}));
await cloud.close();
