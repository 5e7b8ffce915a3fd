import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { adminEnv, nubo, openstack, startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { createLogger } from '../../src/lib/log.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from './helpers.ts';

// The console URLs and their tokens on the fake driver: the API's shapes at each microversion, who
// may open a console, and the proxy's rules (one connection per token, none after its TTL), with a
// stand-in VNC server listening where the fake host says the guest's console is.
const TTL = 3;
let c: TestCloud;
type Caller = ReturnType<typeof computeOf> & { token: string };
let admin: Caller;
let alice: Caller;
let bob: Caller;
let server: string;
const logged: string[] = [];
const v = (version: string) => ({ 'x-openstack-nova-api-version': version });

before(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged.push(String(chunk));
      done();
    },
  });
  // Every request logged, as an operator debugging would have it: the tokens must not be there.
  process.env.NUBO_LOG_REQUESTS = '1';
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10, env: { NUBO_CONSOLE_TOKEN_TTL: String(TTL) }, log: createLogger('debug', sink) });
  delete process.env.NUBO_LOG_REQUESTS;
  const token = await c.adminToken();
  const caller = (t: string): Caller => ({ ...computeOf(c, t), token: t });
  admin = caller(token);
  alice = caller((await makeProject(c, token, 'alice')).token);
  bob = caller((await makeProject(c, token, 'bob')).token);
  const image = await rawImage(c, token);
  const tiny = await admin.flavor('tiny', 128, 1);
  server = await alice.create({ name: 'console', imageRef: image, flavorRef: tiny });
  await alice.settled(server, 'ACTIVE');
});
after(() => c?.stop());

/** A call at a microversion, as the token's user. */
const at = (who: Caller, version: string, method: string, path: string, body?: unknown) =>
  c.request(method, `/compute/v2.1${path}`, { token: who.token, body, headers: v(version) });

const remote = (who: Caller, protocol: string, type: string, version = '2.6', id = server) =>
  at(who, version, 'POST', `/servers/${id}/remote-consoles`, { remote_console: { protocol, type } });

/** The WebSocket a console URL names, opened, with what it received so far; its status when the
 * upgrade is refused. */
function openSocket(url: string): Promise<{ ws?: WebSocket; received?: () => string; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    // Listened to from the start: the guest's first bytes may come with the upgrade's answer.
    let received = '';
    ws.on('message', (d) => (received += String(d)));
    ws.once('open', () => resolve({ ws, received: () => received }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', reject);
  });
}

/** The WebSocket URL behind a noVNC page URL, as the page computes it. */
function vncSocketOf(pageUrl: string): string {
  const page = new URL(pageUrl);
  const ws = new URL(page.searchParams.get('path')!, page);
  ws.protocol = 'ws:';
  return ws.href;
}

/** A stand-in for qemu's VNC server at the fake guest's socket: it greets as RFB servers do and
 * keeps what it receives. */
async function standInVnc(path: string): Promise<{ received: () => string; close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  let received = '';
  const clients = new Set<Socket>();
  const srv: Server = createServer((s) => {
    clients.add(s);
    s.write('RFB 003.008\n');
    s.on('data', (d) => (received += d.toString()));
  });
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  return {
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const s of clients) s.destroy();
        srv.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}

test('remote consoles from 2.6 and the old console actions before it: their shapes', async () => {
  const vnc = await remote(alice, 'vnc', 'novnc');
  assert.equal(vnc.status, 200, JSON.stringify(vnc.body));
  assert.deepEqual(Object.keys(vnc.body.remote_console).sort(), ['protocol', 'type', 'url']);
  assert.equal(vnc.body.remote_console.protocol, 'vnc');
  assert.equal(vnc.body.remote_console.type, 'novnc');
  assert.match(vnc.body.remote_console.url, new RegExp(`^${c.url}/compute/console/vnc\\.html\\?path=websockify%3Ftoken%3D[0-9a-f-]{36}$`));

  const serial = await remote(alice, 'serial', 'serial', '2.93');
  assert.equal(serial.status, 200, JSON.stringify(serial.body));
  assert.deepEqual(serial.body.remote_console.protocol, 'serial');
  assert.match(serial.body.remote_console.url, new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/compute/console/serial\\?token=[0-9a-f-]{36}$`));

  assert.equal((await remote(alice, 'vnc', 'novnc', '2.5')).status, 404, 'remote-consoles came with 2.6');
  const old = await at(alice, '2.1', 'POST', `/servers/${server}/action`, { 'os-getVNCConsole': { type: 'novnc' } });
  assert.equal(old.status, 200, JSON.stringify(old.body));
  assert.equal(old.body.console.type, 'novnc');
  assert.match(old.body.console.url, /\/compute\/console\/vnc\.html\?path=websockify%3Ftoken%3D/);
  const oldSerial = await at(alice, '2.5', 'POST', `/servers/${server}/action`, { 'os-getSerialConsole': { type: 'serial' } });
  assert.equal(oldSerial.status, 200, JSON.stringify(oldSerial.body));
  assert.match(oldSerial.body.console.url, /^ws:.*\/compute\/console\/serial\?token=/);
  assert.equal((await at(alice, '2.6', 'POST', `/servers/${server}/action`, { 'os-getVNCConsole': { type: 'novnc' } })).status, 404, 'gone at 2.6');

  // Consoles Nubo does not serve, or pairs that do not go together: Nova's 400.
  for (const [protocol, type] of [
    ['spice', 'spice-html5'],
    ['vnc', 'xvpvnc'],
    ['rdp', 'rdp-html5'],
    ['vnc', 'serial'],
    ['vnc', 'bogus'],
    ['telnet', 'serial'],
  ]) {
    const res = await remote(alice, protocol!, type!);
    assert.equal(res.status, 400, `${protocol}/${type}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.badRequest.code, 400);
  }
  assert.equal((await at(alice, '2.1', 'POST', `/servers/${server}/action`, { 'os-getVNCConsole': { type: 'xvpvnc' } })).status, 400);

  // The page and the client it loads are served by the cloud itself.
  const page = await fetch(vnc.body.remote_console.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>noVNC<\/title>[\s\S]*import RFB from '\.\/novnc\/core\/rfb\.js'/);
  const rfb = await fetch(`${c.url}/compute/console/novnc/core/rfb.js`);
  assert.equal(rfb.status, 200);
  assert.match(rfb.headers.get('content-type')!, /^text\/javascript/);
  assert.match(await rfb.text(), /export default class RFB/);
  assert.equal((await fetch(`${c.url}/compute/console/novnc/core/..%2F..%2Fpackage.json`)).status, 404);
});

test('only the server project and the admin open its consoles; a stopped server has none', async () => {
  assert.equal((await remote(bob, 'vnc', 'novnc')).status, 404, "another project's server is not found");
  assert.equal((await remote(admin, 'vnc', 'novnc')).status, 200);
  const missing = await remote(alice, 'vnc', 'novnc', '2.6', '00000000-0000-0000-0000-000000000000');
  assert.equal(missing.status, 404);

  const tok = new URL(vncSocketOf((await remote(alice, 'vnc', 'novnc')).body.remote_console.url)).searchParams.get('token')!;
  const shown = await at(admin, '2.31', 'GET', `/os-console-auth-tokens/${tok}`);
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  assert.equal(shown.body.console.instance_uuid, server);
  assert.equal(typeof shown.body.console.host, 'string');
  assert.equal(shown.body.console.port, null);
  assert.match(shown.body.console.internal_access_path, /vnc\.sock$/);
  assert.equal((await at(admin, '2.30', 'GET', `/os-console-auth-tokens/${tok}`)).status, 400, 'before 2.31, only RDP tokens are shown');
  assert.equal((await at(alice, '2.31', 'GET', `/os-console-auth-tokens/${tok}`)).status, 403, 'tokens are shown to the admin only');
  assert.equal((await at(admin, '2.31', 'GET', '/os-console-auth-tokens/nope')).status, 404);

  const stopped = await alice.create({ name: 'stopped', imageRef: (await alice.show(server)).image.id, flavorRef: (await alice.show(server)).flavor.id });
  await alice.settled(stopped, 'ACTIVE');
  assert.equal((await alice.action(stopped, { 'os-stop': null })).status, 202);
  await alice.settled(stopped, 'SHUTOFF');
  assert.equal((await remote(alice, 'vnc', 'novnc', '2.6', stopped)).status, 409);
  assert.equal((await remote(alice, 'serial', 'serial', '2.6', stopped)).status, 409);
});

test('a token opens one connection, to its own console type, before it expires; it is never logged', async () => {
  const socketPath = shownPath(await at(admin, '2.31', 'GET', `/os-console-auth-tokens/${tokenOf(await vncUrl())}`));
  const vncServer = await standInVnc(socketPath);
  try {
    const url = await vncUrl();
    assert.equal((await fetch(url)).status, 200, 'the page, which carries the token in its query');
    const first = await openSocket(vncSocketOf(url));
    assert.ok(first.ws, `refused: ${first.status}`);
    assert.equal(first.ws.protocol, 'binary');
    await eventuallyTrue(() => first.received!() === 'RFB 003.008\n');
    first.ws.send(Buffer.from('RFB 003.008\n'));
    await eventuallyTrue(() => vncServer.received() === 'RFB 003.008\n');
    first.ws.close();

    assert.equal((await openSocket(vncSocketOf(url))).status, 401, 'a spent token');
    const novncOnSerial = new URL(vncSocketOf(await vncUrl()));
    novncOnSerial.pathname = novncOnSerial.pathname.replace(/websockify$/, 'serial');
    assert.equal((await openSocket(novncOnSerial.href)).status, 401, 'a VNC token does not open the serial port');

    const late = await vncUrl();
    await new Promise((r) => setTimeout(r, TTL * 1000 + 500));
    assert.equal((await openSocket(vncSocketOf(late))).status, 401, 'an expired token');
    assert.equal((await at(admin, '2.31', 'GET', `/os-console-auth-tokens/${tokenOf(late)}`)).status, 404);
  } finally {
    await vncServer.close();
  }
  const tokens = [...logged.join('').matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]);
  assert.ok(logged.join('').includes('console connection opened'), 'the connection is logged');
  for (const t of issued) assert.ok(!tokens.includes(t), `token ${t} is in the log: ${logged.find((l) => l.includes(t))}`);
});

test('nubo console url show prints what openstack prints, with a URL of its own', async () => {
  const env = { ...adminEnv(c.url, 'pw'), OS_USERNAME: 'alice-user', OS_PROJECT_NAME: 'alice' };
  for (const kind of ['--novnc', '--serial']) {
    const theirs = await openstack(env, 'console', 'url', 'show', kind, 'console', '-f', 'json');
    const ours = await nubo(env, 'console', 'url', 'show', kind, 'console', '-f', 'json');
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(ours.code, 0, ours.stderr);
    const [a, b] = [JSON.parse(theirs.stdout), JSON.parse(ours.stdout)];
    // Each asked for a token of its own.
    assert.notEqual(a.url, b.url);
    assert.deepEqual({ ...b, url: b.url.replace(/[0-9a-f-]{36}/, 'T') }, { ...a, url: a.url.replace(/[0-9a-f-]{36}/, 'T') });
  }
});

const issued: string[] = [];
const tokenOf = (pageUrl: string) => new URL(vncSocketOf(pageUrl)).searchParams.get('token')!;
async function vncUrl(): Promise<string> {
  const res = await remote(alice, 'vnc', 'novnc');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  issued.push(tokenOf(res.body.remote_console.url));
  return res.body.remote_console.url;
}
const shownPath = (res: { status: number; body: any }) => {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.console.internal_access_path as string;
};
async function eventuallyTrue(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}
