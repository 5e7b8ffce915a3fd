import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/lib/log.ts';
import { createFakeDriver } from '../../src/compute/virt/fake.ts';
import type { VirtDriver } from '../../src/compute/virt/driver.ts';
import { reachThroughRelay, startConsoleRelay } from '../../src/compute/agent/console-relay.ts';

// A host's console relay: a connection gets to a guest's console only over TLS with the host's key,
// and with a ticket the host issued for it, once. The guest's console is a unix socket that echoes
// what it gets, prefixed.

const work = mkdtempSync(join(tmpdir(), 'nubo-relay-'));
after(() => rmSync(work, { recursive: true, force: true }));

const log = createLogger('silent');
const uuid = randomUUID();
const consolePath = join(work, 'serial.sock');
const guestConsole = createServer((s) => s.on('data', (d) => s.write(`guest got ${d}`)));
await new Promise<void>((resolve) => guestConsole.listen(consolePath, resolve));
after(() => guestConsole.close());

const fake = createFakeDriver();
await fake.spawn({
  uuid,
  name: 'g',
  vcpus: 1,
  memoryMiB: 64,
  rootGiB: 0,
  nics: [],
  rootVolume: { volumeId: 'v', connection: { driver: 'raw', path: '/dev/null' } },
});
const driver: VirtDriver = { ...fake, consoleSocket: () => consolePath };
const own = { host: 'host2', key: randomBytes(32).toString('hex') };
const relay = await startConsoleRelay(driver, '127.0.0.1', own, log);
after(() => relay.close());

/** What the connection receives until it closes or a second passes. */
const drain = (s: Socket) =>
  new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('close', () => resolve(got));
    setTimeout(() => (s.destroy(), resolve(got)), 1000);
  });

test('a ticket joins the connection to the guest console, once; a wrong or spent one is cut off with nothing read', async () => {
  const t = await relay.issue(uuid, 'serial');
  assert.equal(t.host, '127.0.0.1');
  assert.match(t.ticket, /^[0-9a-f]{64}$/);

  const wrong = await reachThroughRelay({ ...t, ticket: 'f'.repeat(64) }, own);
  wrong.write('hello');
  assert.equal(await drain(wrong), '');

  const s = await reachThroughRelay(t, own);
  s.write('hello');
  const echoed = await new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
  assert.equal(echoed, 'guest got hello');
  s.destroy();

  const again = await reachThroughRelay(t, own);
  again.write('hello');
  assert.equal(await drain(again), '');
});

test('no ticket for a guest that is not on the host', async () => {
  await assert.rejects(relay.issue(randomUUID(), 'vnc'), /not on this host/);
});

test("without the host's key nothing gets through: another key, another host's name, or no TLS at all", async () => {
  const t = await relay.issue(uuid, 'serial');
  await assert.rejects(reachThroughRelay(t, { ...own, key: randomBytes(32).toString('hex') }));
  await assert.rejects(reachThroughRelay(t, { ...own, host: 'host3' }));
  // A ticket sent in the clear is never read as one.
  const plain = connect(t.port, t.host);
  plain.on('error', () => undefined);
  plain.write(`${t.ticket}\nhello`);
  assert.equal(await drain(plain), '');
  // The ticket was not spent by any of them.
  const s = await reachThroughRelay(t, own);
  s.write('hello');
  assert.equal(await new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d)))), 'guest got hello');
  s.destroy();
});
