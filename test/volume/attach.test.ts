import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, cliFails, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually, hostNamespace, inNs } from '../helpers/netns.ts';
import { seedNetworks } from '../helpers/seed.ts';
import { consoleUntil as consoleOf } from '../helpers/console.ts';
import { openFileDriver } from '../../src/volume/drivers/file.ts';

// Volumes in real guests, with the real openstack CLI: two qemu guests of the test image, reached
// over ssh through their floating IPs. A 1 GiB volume is hot-plugged into the first (the guest sees
// /dev/vdb with the volume's serial), written, grown while attached, refused to the second while
// in use, unplugged (the device goes), then plugged into the second, which reads the same bytes;
// a volume attached while the second is stopped is there at its next start, with the first one
// still. Then a server booted from a volume made from the image reaches its ready line, and its
// delete takes the volume with it (delete_on_termination). The two guests also serve their
// hostnames with busybox httpd (started by their user data) behind a load balancer: requests to
// its floating IP reach both, and its health monitor takes the second out while it is stopped and
// back once it runs again.
const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let host: Awaited<ReturnType<typeof hostNamespace>>;
let cloud: SpawnedNubo;
let work: string;
let pem: string;
const fips: Record<string, string> = {};

const cli = cliAs(() => cloud.env);
const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
/** Volume commands at the microversion that allows extending an in-use volume. */
const cinder = (...args: string[]) => cli('--os-volume-api-version', '3.42', ...args);

const ssh = (name: string, command: string) =>
  inNs(
    host.name,
    ...['ssh', '-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'],
    ...['-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${fips[name]}`, command],
  ).then((r) => r.stdout.trim());

const consoleUntil = (name: string, pattern: RegExp) => consoleOf(cli, name, pattern, 180_000);

const volumeStatus = async (name: string) => (await json('volume', 'show', name)).status as string;
const until = (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => eventually(what, () => check().catch(() => false), timeoutMs);

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const guestImage = stdout.trim().split('\n').at(-1)!;
  host = await hostNamespace('v');
  work = tempDir('nubo-attach-');
  // A data directory of the test's own, which a restart of nubo keeps.
  cloud = await spawnNubo({ dataDir: join(work, 'data'), env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
  await cli('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  pem = join(work, 'key.pem');
  writeFileSync(pem, await cli('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  await seedNetworks(cli);
  for (const port of ['22', '80']) await cli('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', port, 'default');
  // Each boot of a guest starts a web server that answers its hostname.
  const userData = join(work, 'httpd.sh');
  writeFileSync(userData, '#!/bin/sh\nmkdir -p /www && hostname > /www/index.html && httpd -p 80 -h /www\n');
  // Both guests boot at once: two TCG boots are what two cores take well.
  for (const name of ['vm-a', 'vm-b']) {
    await cli('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey', '--user-data', userData, name);
  }
  for (const name of ['vm-a', 'vm-b']) {
    await consoleUntil(name, /nubo-guest ready: .*keys=1/);
    fips[name] = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address;
    await cli('server', 'add', 'floating', 'ip', name, fips[name]!);
  }
  for (const name of ['vm-a', 'vm-b']) await until(`ssh into ${name}`, async () => (await ssh(name, 'hostname')) === name, 60_000);
});

after(async () => {
  // Guests outlive `nubo up` by design; a test that failed half-way must not leave one running.
  if (cloud) await run('pkill', ['-9', '-f', cloud.dataDir]).catch(() => undefined);
  await cloud?.stop();
  await host?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const PATTERN = 'nubo-volume-pattern-0123456789';
let vol1: string;

test('server add volume: the running guest sees /dev/vdb appear, with the volume id as its serial; it writes a pattern', async () => {
  vol1 = (await json('volume', 'create', '--size', '1', 'vol1')).id;
  await until('vol1 available', async () => (await volumeStatus('vol1')) === 'available');
  assert.equal(await ssh('vm-a', 'test -e /dev/vdb && echo yes || echo no'), 'no');
  await cli('server', 'add', 'volume', 'vm-a', 'vol1');
  await until('vol1 in-use', async () => (await volumeStatus('vol1')) === 'in-use');
  const shown = await json('volume', 'show', 'vol1');
  assert.equal(shown.attachments[0].server_id, (await json('server', 'show', 'vm-a')).id);
  assert.equal(shown.attachments[0].device, '/dev/vdb');
  assert.deepEqual(
    (await json('server', 'show', 'vm-a')).volumes_attached.map((v: { id: string }) => v.id),
    [vol1],
  );
  await until('the guest sees /dev/vdb', async () => (await ssh('vm-a', 'cat /sys/block/vdb/serial')) === vol1.slice(0, 20), 30_000);
  assert.equal(await ssh('vm-a', 'cat /sys/block/vdb/size'), String(2 * 1024 * 1024), '1 GiB in 512-byte sectors');
  await ssh('vm-a', `printf '${PATTERN}' | dd of=/dev/vdb bs=512 seek=2048 conv=notrunc 2>/dev/null; sync`);
});

test('extend while attached: the guest sees the new size', async () => {
  await cinder('volume', 'set', '--size', '2', 'vol1');
  await until('the guest sees 2 GiB', async () => (await ssh('vm-a', 'cat /sys/block/vdb/size')) === String(4 * 1024 * 1024), 60_000);
  assert.equal(await volumeStatus('vol1'), 'in-use');
  assert.equal((await json('volume', 'show', 'vol1')).size, 2);
});

test('a snapshot of the in-use volume needs --force; a volume made from it holds what the guest wrote', async () => {
  assert.match(
    await cliFails(cloud.env, 'volume', 'snapshot', 'create', '--volume', 'vol1', 'vol1-snap'),
    /status must be available, but current status is: in-use/,
  );
  await json('volume', 'snapshot', 'create', '--force', '--volume', 'vol1', 'vol1-snap');
  await until('the snapshot is available', async () => (await json('volume', 'snapshot', 'show', 'vol1-snap')).status === 'available');
  const copy = (await json('volume', 'create', '--snapshot', 'vol1-snap', 'vol1-copy')).id as string;
  await until('its volume is available', async () => (await volumeStatus('vol1-copy')) === 'available');
  // Read on the host, from the file backend's raw file.
  const conn = (await openFileDriver(join(cloud.dataDir, 'volumes'))).connection(copy);
  assert.ok(conn.driver === 'file' && conn.format === 'raw');
  const bytes = Buffer.alloc(PATTERN.length);
  const fd = openSync(conn.filename, 'r');
  readSync(fd, bytes, 0, bytes.length, 2048 * 512);
  closeSync(fd);
  assert.equal(bytes.toString(), PATTERN);
  assert.equal(await volumeStatus('vol1'), 'in-use');
  await cli('volume', 'delete', 'vol1-copy');
  await cli('volume', 'snapshot', 'delete', 'vol1-snap');
  await until('the snapshot is gone', async () => !(await cli('volume', 'snapshot', 'list', '-f', 'value', '-c', 'Name')).includes('vol1-snap'));
});

test('an in-use volume cannot be attached to a second server (400, as Nova answers it)', async () => {
  const err = await cliFails(cloud.env, 'server', 'add', 'volume', 'vm-b', 'vol1');
  assert.match(err, /BadRequestException: 400: .*status must be available .* in-use/);
  assert.equal(await volumeStatus('vol1'), 'in-use');
});

test('server remove volume: the device goes from the guest and the volume is available; the second guest reads the pattern', async () => {
  await cli('server', 'remove', 'volume', 'vm-a', 'vol1');
  await until('vol1 available again', async () => (await volumeStatus('vol1')) === 'available');
  assert.equal(await ssh('vm-a', 'test -e /dev/vdb && echo yes || echo no'), 'no');
  assert.deepEqual((await json('server', 'show', 'vm-a')).volumes_attached, []);

  await cli('server', 'add', 'volume', 'vm-b', 'vol1');
  await until('vol1 in-use by vm-b', async () => (await volumeStatus('vol1')) === 'in-use');
  await until('vm-b sees /dev/vdb', async () => (await ssh('vm-b', 'cat /sys/block/vdb/serial')) === vol1.slice(0, 20), 30_000);
  assert.equal(await ssh('vm-b', `dd if=/dev/vdb bs=512 skip=2048 count=1 2>/dev/null | head -c ${PATTERN.length}`), PATTERN);
});


test('a read-only volume is read-only in the guest: its writes fail', async () => {
  await json('volume', 'create', '--size', '1', 'vol-ro');
  await until('vol-ro available', async () => (await volumeStatus('vol-ro')) === 'available');
  await cli('volume', 'set', '--read-only', 'vol-ro');
  await cli('server', 'add', 'volume', 'vm-a', 'vol-ro');
  await until('vol-ro in-use', async () => (await volumeStatus('vol-ro')) === 'in-use');
  assert.equal((await json('volume', 'show', 'vol-ro')).attachments[0].device, '/dev/vdb');
  await until('the guest sees vdb', async () => (await ssh('vm-a', 'cat /sys/block/vdb/ro')) === '1', 30_000);
  assert.equal(await ssh('vm-a', 'dd if=/dev/zero of=/dev/vdb bs=512 count=1 2>/dev/null && echo wrote || echo refused'), 'refused');
  await cli('server', 'remove', 'volume', 'vm-a', 'vol-ro');
  await until('vol-ro available again', async () => (await volumeStatus('vol-ro')) === 'available');
  await cli('volume', 'delete', 'vol-ro');
});

/** A GET through the load balancer's floating IP, from the machine's side. */
const get = () => inNs(host.name, 'curl', '-s', '--max-time', '3', `http://${fips.lb}/`).then((r) => r.stdout.trim());
const memberStatus = async (name: string) => (await json('loadbalancer', 'member', 'show', 'web', name)).operating_status as string;

test('a load balancer over the two guests: requests to its floating IP reach both web servers', async () => {
  const lb = await json('loadbalancer', 'create', '--name', 'lb', '--vip-subnet-id', 'private-subnet', '--wait');
  await cli('loadbalancer', 'listener', 'create', '--name', 'http', '--protocol', 'HTTP', '--protocol-port', '80', '--wait', 'lb');
  await cli('loadbalancer', 'pool', 'create', '--name', 'web', '--lb-algorithm', 'ROUND_ROBIN', '--listener', 'http', '--protocol', 'HTTP', '--wait');
  for (const name of ['vm-a', 'vm-b']) {
    const address = (Object.values((await json('server', 'show', name)).addresses) as string[][])[0]![0]!;
    await cli('loadbalancer', 'member', 'create', '--name', name, '--subnet-id', 'private-subnet', '--address', address, '--protocol-port', '80', '--wait', 'web');
  }
  await cli(
    ...['loadbalancer', 'healthmonitor', 'create', '--name', 'hm', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--max-retries-down', '2'],
    ...['--type', 'HTTP', '--url-path', '/', '--expected-codes', '200', '--wait', 'web'],
  );
  await until('both members ONLINE', async () => (await memberStatus('vm-a')) === 'ONLINE' && (await memberStatus('vm-b')) === 'ONLINE', 30_000);
  fips.lb = (await json('floating', 'ip', 'create', '--port', lb.vip_port_id, 'public-net')).floating_ip_address;
  await until('the floating IP answering', async () => /^vm-[ab]$/.test(await get()), 30_000);
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) answers.push(await get());
  assert.deepEqual([...new Set(answers)].sort(), ['vm-a', 'vm-b'], `20 requests through the load balancer: ${answers.join(' ')}`);
});

test('vm-b stopped: the monitor marks its member ERROR and every request goes to vm-a', async () => {
  await cli('server', 'stop', 'vm-b');
  await until('vm-b SHUTOFF', async () => (await json('server', 'show', 'vm-b')).status === 'SHUTOFF');
  // delay × max_retries_down = 2 s for HAProxy, and a poll of the agent.
  await until('the stopped member ERROR', async () => (await memberStatus('vm-b')) === 'ERROR', 30_000);
  assert.equal(JSON.parse(await cli('loadbalancer', 'status', 'show', 'lb')).loadbalancer.operating_status, 'DEGRADED');
  for (let i = 0; i < 10; i++) assert.equal(await get(), 'vm-a');
});

test('a volume attached to a stopped server is there at its next start, beside the one it had', async () => {
  await json('volume', 'create', '--size', '1', 'vol2');
  await until('vol2 available', async () => (await volumeStatus('vol2')) === 'available');
  assert.equal((await json('server', 'show', 'vm-b')).status, 'SHUTOFF');
  await cli('server', 'add', 'volume', 'vm-b', 'vol2');
  await until('vol2 in-use', async () => (await volumeStatus('vol2')) === 'in-use');
  await cli('server', 'start', 'vm-b');
  await until('vm-b answers again', async () => (await ssh('vm-b', 'hostname')) === 'vm-b', 180_000);
  // sysfs serials end without a newline.
  assert.equal(
    await ssh('vm-b', 'cat /sys/block/vdb/serial /sys/block/vdc/serial'),
    [vol1, (await json('volume', 'show', 'vol2')).id].map((id) => id.slice(0, 20)).join(''),
  );
  assert.equal(await ssh('vm-b', `dd if=/dev/vdb bs=512 skip=2048 count=1 2>/dev/null | head -c ${PATTERN.length}`), PATTERN);
});

test('vm-b running again: its member is back ONLINE; a cascade delete takes the load balancer and leaves the guests', async () => {
  await until('the member back ONLINE', async () => (await memberStatus('vm-b')) === 'ONLINE', 60_000);
  const answers = new Set<string>();
  for (let i = 0; i < 10; i++) answers.add(await get());
  assert.deepEqual([...answers].sort(), ['vm-a', 'vm-b']);
  const lb = await json('loadbalancer', 'show', 'lb');
  await cli('loadbalancer', 'delete', '--cascade', '--wait', 'lb');
  assert.ok(!(await host.list()).includes(`${host.name}-qlb-${lb.id}`), 'its namespace is gone');
  assert.match(await cliFails(cloud.env, 'port', 'show', lb.vip_port_id), /No Port found|could not be found/);
  assert.equal(await ssh('vm-a', 'wget -q -O - http://127.0.0.1/'), 'vm-a');
});

test('a restart of nubo keeps the attachments: the guest keeps its disks, and a detach after it works', async () => {
  const vol2 = (await json('volume', 'show', 'vol2')).id as string;
  const { dataDir } = cloud;
  await cloud.stop();
  cloud = await spawnNubo({ dataDir, env: { NUBO_NETWORK_DATAPLANE: 'linux', NUBO_NETWORK_NETNS: host.name } });
  assert.deepEqual(
    (await json('server', 'show', 'vm-b')).volumes_attached.map((v: { id: string }) => v.id),
    [vol1, vol2],
  );
  assert.equal(await ssh('vm-b', 'cat /sys/block/vdb/serial /sys/block/vdc/serial'), [vol1, vol2].map((id) => id.slice(0, 20)).join(''));
  await cli('server', 'remove', 'volume', 'vm-b', 'vol2');
  await until('vol2 available', async () => (await volumeStatus('vol2')) === 'available');
  assert.equal(await ssh('vm-b', 'test -e /dev/vdc && echo yes || echo no'), 'no');
});

test('deleting a server detaches its volumes', async () => {
  await cli('server', 'delete', '--wait', 'vm-b');
  assert.equal(await volumeStatus('vol1'), 'available');
  assert.equal(await volumeStatus('vol2'), 'available');
  await cli('volume', 'delete', 'vol1', 'vol2');
});

test('boot from a volume made from the test image: it reaches its ready line; its delete takes the volume along', async () => {
  const image = (await json('image', 'show', 'nubo-guest')).id;
  // openstackclient 6.0 wants --image beside a --block-device that boots.
  await cli(
    ...['server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey'],
    ...['--block-device', `source_type=image,uuid=${image},destination_type=volume,volume_size=1,delete_on_termination=true,boot_index=0`, 'vm-c'],
  );
  // Its kernel and init come from the volume (the server has no disk of its own).
  await consoleUntil('vm-c', /virtio_blk virtio0: \[vda\] 2097152 512-byte logical blocks[^]*nubo-guest ready: /);
  const server = await json('server', 'show', 'vm-c');
  assert.equal(server.image, 'N/A (booted from volume)');
  const [root] = server.volumes_attached;
  assert.equal((await json('volume', 'show', root.id)).status, 'in-use');
  // Stopped and started, it boots from the same volume again (the console log keeps both boots).
  await cli('server', 'stop', 'vm-c');
  await until('vm-c SHUTOFF', async () => (await json('server', 'show', 'vm-c')).status === 'SHUTOFF');
  assert.equal((await json('volume', 'show', root.id)).status, 'in-use');
  await cli('server', 'start', 'vm-c');
  await consoleUntil('vm-c', /nubo-guest ready: [^]*\[vda\] 2097152 512-byte logical blocks[^]*nubo-guest ready: /);
  assert.deepEqual(
    (await json('server', 'show', 'vm-c')).volumes_attached.map((v: { id: string }) => v.id),
    [root.id],
  );
  await cli('server', 'delete', '--wait', 'vm-c');
  await until('its volume is deleted', async () => !(await cli('volume', 'list', '-f', 'value', '-c', 'ID')).includes(root.id));
});
