import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { cliAs, tempDir } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';

// Real test guests across hosts: scripts/multihost/up.sh with the qemu driver, a controller on
// PostgreSQL and three `nubo agent` hosts (host1 the network host, with the router). Two guests
// of an anti-affinity group land on two hosts, on one vxlan network: each pings the other across
// the tunnel, and the machine reaches each over ssh through its floating IP, routed on host1. One
// is then live-migrated to the third host while the other pings it and an ssh session into it runs;
// the other is cold-migrated, its disk copied from host to host, and its serial console followed
// through its host's relay.

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
let dir: string;
let cloud: Record<string, string>;
let env: Record<string, string>;
let guestImage: string;

before(async () => {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  guestImage = stdout.trim().split('\n').at(-1)!;
  dir = tempDir('nubo-mg-');
  await run(join(root, 'scripts/multihost/up.sh'), [dir, '3'], {
    env: { ...process.env, NUBO_COMPUTE_DRIVER: 'qemu', NUBO_REPORT_INTERVAL: '2', NUBO_VNI_RANGES: '200:209' },
    timeout: 240_000,
  });
  cloud = Object.fromEntries([...readFileSync(join(dir, 'cloud.env'), 'utf8').matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  env = Object.fromEntries([...readFileSync(join(dir, 'openrc'), 'utf8').matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm)].map((m) => [m[1]!, m[2]!]));
});

after(async () => {
  if (dir) await run(join(root, 'scripts/multihost/down.sh'), [dir], { timeout: 120_000 });
});

const ok = cliAs(() => env);
/** The pids of the qemu processes of a server, on whichever host. */
const qemuOf = async (id: string) => (await run('pgrep', ['-f', '--', `-uuid ${id}`]).catch(() => ({ stdout: '' }))).stdout.trim().split('\n').filter(Boolean);
/** Loads an nft ruleset into a host's namespace. */
const nftIn = (ns: string, ruleset: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft in ${ns}: ${err}`))));
    child.stdin.end(ruleset);
  });
const json = async (...args: string[]) => JSON.parse(await ok(...args, '-f', 'json'));

test('two real guests on two hosts ping each other over VXLAN, the machine reaches each over ssh through its floating IP, one is live-migrated to a third host with its addresses, disk and ssh session, and the other cold-migrated with its disk and reached on its serial console', async () => {
  await ok('image', 'create', 'nubo-guest', '--file', guestImage, '--disk-format', 'qcow2', '--container-format', 'bare', '--public');
  await ok('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
  const pem = join(dir, 'key.pem');
  writeFileSync(pem, await ok('keypair', 'create', 'mykey'));
  chmodSync(pem, 0o600);
  const net = await json('network', 'create', 'tnet');
  assert.equal(net['provider:network_type'], 'vxlan');
  await ok('subnet', 'create', '--network', 'tnet', '--subnet-range', '192.168.88.0/24', 'tsub');
  const ext = cloud.EXT!.replace(/\.1\/24$/, '');
  await ok('network', 'create', '--external', '--provider-network-type', 'flat', '--provider-physical-network', 'physnet1', 'ext');
  await ok('subnet', 'create', '--network', 'ext', '--subnet-range', `${ext}.0/24`, '--gateway', `${ext}.1`, '--no-dhcp', '--allocation-pool', `start=${ext}.10,end=${ext}.99`, 'ext-sub');
  await ok('router', 'create', 'r1');
  await ok('router', 'set', '--external-gateway', 'ext', 'r1');
  await ok('router', 'add', 'subnet', 'r1', 'tsub');
  for (const rule of [['--proto', 'tcp', '--dst-port', '22'], ['--proto', 'icmp']]) await ok('security', 'group', 'rule', 'create', ...rule, 'default');
  const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'apart');

  // Both boot at once: config drive for their keys, DHCP from host1 across the tunnel.
  for (const name of ['ga', 'gb'])
    await ok(
      ...['server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'tnet', '--key-name', 'mykey'],
      ...['--config-drive', 'True', '--hint', `group=${group.id}`, name],
    );
  const guests: Record<string, { host: string; ip: string; fip: string }> = {};
  for (const name of ['ga', 'gb']) {
    await eventually(`${name} ACTIVE`, async () => (await json('server', 'show', name)).status === 'ACTIVE', 180_000);
    const shown = await json('server', 'show', name);
    const fip = (await json('floating', 'ip', 'create', 'ext')).floating_ip_address as string;
    await ok('server', 'add', 'floating', 'ip', name, fip);
    guests[name] = { host: shown['OS-EXT-SRV-ATTR:host'], ip: shown.addresses.tnet[0], fip };
  }
  assert.notEqual(guests.ga!.host, guests.gb!.host, `two hosts: ${JSON.stringify(guests)}`);

  const sshOptions = ['-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];
  const ssh = (name: string, command: string) => run('ssh', [...sshOptions, `root@${guests[name]!.fip}`, command], { timeout: 30_000 }).then((r) => r.stdout.trim());
  for (const name of ['ga', 'gb']) await eventually(`ssh into ${name}`, async () => (await ssh(name, 'hostname').catch(() => '')) === name, 300_000);
  // The controller runs no guest: it asks each guest's host for its console.
  for (const name of ['ga', 'gb']) assert.match(await ok('console', 'log', 'show', name), /nubo-guest ready/);
  assert.match(await ssh('ga', `ping -c 3 -W 2 ${guests.gb!.ip} >/dev/null && echo reached`), /reached/);
  assert.match(await ssh('gb', `ping -c 3 -W 2 ${guests.ga!.ip} >/dev/null && echo reached`), /reached/);

  // What a guest writes near the end of its disk, which nothing else uses (it runs from its
  // initramfs): it must travel with the guest.
  const marker = 'dd if=/dev/vda bs=512 skip=$(( $(cat /sys/block/vda/size) - 8 )) count=1 2>/dev/null | head -c 7';
  const mark = (name: string) => ssh(name, 'printf carried | dd of=/dev/vda bs=512 seek=$(( $(cat /sys/block/vda/size) - 8 )) conv=fsync 2>/dev/null');

  // Live migration of gb to the third host, while ga pings it five times a second and an ssh
  // session into gb prints a tick each second; what it wrote to its disk goes with it.
  const target = ['host1', 'host2', 'host3'].find((h) => h !== guests.ga!.host && h !== guests.gb!.host)!;
  const follow = (name: string, command: string) => {
    const child = spawn('ssh', [...sshOptions, `root@${guests[name]!.fip}`, command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    return { child, lines: () => out.split('\n').filter(Boolean) };
  };
  await mark('gb');
  const pinging = follow('ga', `ping -i 0.2 -W 1 ${guests.gb!.ip}`);
  const ticking = follow('gb', 'while sleep 1; do echo tick; done');
  try {
    await eventually('pings answered before the move', async () => pinging.lines().some((l) => /seq=\d+/.test(l)), 30_000);
    await eventually('ticks before the move', async () => ticking.lines().length >= 2, 30_000);
    const t0 = Date.now();
    await ok('--os-compute-api-version', '2.30', 'server', 'migrate', '--live-migration', '--host', target, 'gb');
    await eventually(
      'gb ACTIVE on its new host',
      async () => {
        const shown = await json('server', 'show', 'gb');
        assert.notEqual(shown.status, 'ERROR', JSON.stringify(shown.fault));
        return shown.status === 'ACTIVE' && shown['OS-EXT-SRV-ATTR:host'] === target;
      },
      240_000,
    );
    const movedAfterMs = Date.now() - t0;
    const moved = await json('server', 'show', 'gb');
    assert.deepEqual(moved.addresses.tnet, [guests.gb!.ip, guests.gb!.fip]);
    // Its qemu runs in the target host's namespace now, from the target's own instance directory.
    const pids = await qemuOf(moved.id);
    assert.equal(pids.length, 1, `one qemu for gb: ${pids}`);
    assert.match(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8'), new RegExp(`/${target}/`));
    // The pings answer again, and the ssh session into gb lives on.
    const seqs = () => pinging.lines().flatMap((l) => (/seq=(\d+)/.exec(l) ? [Number(/seq=(\d+)/.exec(l)![1])] : []));
    const answeredBefore = seqs().length;
    await eventually('pings answered after the move', async () => seqs().length > answeredBefore + 5, 30_000);
    const ticksBefore = ticking.lines().length;
    await eventually('ticks after the move', async () => ticking.lines().length >= ticksBefore + 2, 30_000);
    const all = seqs();
    const gap = Math.max(...all.slice(1).map((seq, i) => seq - all[i]!));
    console.log(`live migration: gb ACTIVE on ${target} ${movedAfterMs} ms after the request; longest run of lost pings ${gap - 1} (${((gap - 1) * 0.2).toFixed(1)} s)`);
    assert.ok(gap - 1 <= 50, `the pings answered again within 10 s (lost ${gap - 1})`);
    assert.equal(ticking.child.exitCode, null, 'the ssh session into gb is still open');
    assert.equal(await ssh('gb', marker), 'carried');
    // Its console, as it printed it on its first host, came with it.
    assert.match(await ok('console', 'log', 'show', 'gb'), /nubo-guest ready: hostname=gb/);

    // Back to its first host, whose namespace now refuses the migration's ports: the move fails,
    // and gb runs on where it is, still answering, with one qemu.
    const back = guests.gb!.host;
    const ns = `${cloud.TAG}-h${back.replace('host', '')}`;
    const hostIp = `${cloud.UNDERLAY}.${back.replace('host', '')}`;
    await nftIn(ns, `table inet nubo_test_block { chain input { type filter hook input priority 0; ip daddr ${hostIp} tcp dport 49152-65535 reject; }; }`);
    await ok('--os-compute-api-version', '2.30', 'server', 'migrate', '--live-migration', '--host', back, 'gb');
    await eventually(
      'the failed move given up',
      async () => (await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', 'gb', '--type', 'live-migration'))[0].Status === 'error',
      40_000,
    );
    const stayed = await json('server', 'show', 'gb');
    assert.deepEqual([stayed.status, stayed['OS-EXT-SRV-ATTR:host']], ['ACTIVE', target]);
    await eventually('one qemu for gb again', async () => (await qemuOf(moved.id)).length === 1, 30_000);
    assert.match(readFileSync(`/proc/${(await qemuOf(moved.id))[0]}/cmdline`, 'utf8'), new RegExp(`/${target}/`));
    const answered = seqs().length;
    await eventually('pings still answered', async () => seqs().length > answered + 5, 30_000);
    // The newest action is the failed move; its event says why.
    const [failed] = (await json('server', 'event', 'list', 'gb')).filter((e: any) => e.Action === 'live-migration');
    const shown = await json('--os-compute-api-version', '2.51', 'server', 'event', 'show', 'gb', failed['Request ID']);
    assert.equal(shown.events[0].result, 'Error', JSON.stringify(shown));
    await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'nubo_test_block']);
  } finally {
    pinging.child.kill();
    ticking.child.kill();
  }
  const listed = await json('--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--server', 'gb', '--type', 'live-migration');
  assert.deepEqual(
    listed.map((m: any) => [m['Source Compute'], m['Dest Compute'], m.Status]),
    [
      [target, guests.gb!.host, 'error'],
      [guests.gb!.host, target, 'completed'],
    ],
  );

  // A cold migration of ga: its disk, served by its host over NBD, is copied by the other.
  await mark('ga');
  assert.equal(await ssh('ga', marker), 'carried');
  await ok('server', 'migrate', 'ga');
  await eventually(
    'ga VERIFY_RESIZE on another host',
    async () => {
      const shown = await json('server', 'show', 'ga');
      assert.notEqual(shown.status, 'ERROR', JSON.stringify(shown.fault));
      return shown.status === 'VERIFY_RESIZE';
    },
    240_000,
  );
  await ok('server', 'migrate', 'confirm', 'ga');
  await eventually('ga ACTIVE', async () => (await json('server', 'show', 'ga')).status === 'ACTIVE', 120_000);
  const coldMoved = await json('server', 'show', 'ga');
  assert.notEqual(coldMoved['OS-EXT-SRV-ATTR:host'], guests.ga!.host);
  await eventually('ssh into ga on its new host', async () => (await ssh('ga', marker).catch(() => '')) === 'carried', 300_000);
  // Its console shows both boots: on its first host, then on this one.
  assert.equal((await ok('console', 'log', 'show', 'ga')).match(/nubo-guest ready: hostname=ga/g)?.length, 2);

  // Its serial console, through the controller's proxy and its host's relay: the line it prints
  // when its power button is pressed arrives on the WebSocket.
  const serialUrl = (await ok('console', 'url', 'show', '--serial', 'ga', '-f', 'value', '-c', 'url')).trim();
  let received = '';
  const ws = new WebSocket(serialUrl, ['binary']);
  ws.on('message', (d) => (received += String(d)));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  try {
    await ok('server', 'stop', 'ga');
    await eventually('the power-off line on the serial WebSocket', async () => /power button, powering off/.test(received), 120_000).catch(() =>
      assert.fail(`the serial WebSocket got:\n${received}`),
    );
  } finally {
    ws.close();
  }
  await ok('server', 'delete', '--wait', 'ga', 'gb');
});
