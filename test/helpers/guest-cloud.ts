import { execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliAs, startTestCloud, tempDir, type TestCloud } from './cloud.ts';
import { startCeph, type TestCeph } from './ceph.ts';
import { eventually, hostNamespace, inNs } from './netns.ts';
import { seedNetworks } from './seed.ts';
import { consoleUntil } from './console.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/**
 * A cloud for real guests on a single-node Ceph of its own (storage ceph): in this process, with
 * the Linux data plane in a host namespace, the seed workflow's networks and key pair, a 256 MiB
 * flavor m1.nano, ssh allowed, and the test guest uploaded raw as `nubo-guest` (clones need raw
 * bytes, as Glance's rbd deployments keep them). `cli` is the real openstack CLI as the admin;
 * `settings` are NUBO_* variables for the cloud beyond the cluster's.
 */
export async function startGuestCloudOnCeph(tag: string, settings: Record<string, string> = {}) {
  const { stdout } = await run('bash', [join(root, 'scripts/guest/build.sh')], { timeout: 600_000, maxBuffer: 1 << 24 });
  const work = tempDir(`nubo-guest-ceph-${tag}-`);
  const raw = join(work, 'guest.raw');
  await run('qemu-img', ['convert', '-O', 'raw', stdout.trim().split('\n').at(-1)!, raw]);
  let ceph: TestCeph | undefined;
  let host: Awaited<ReturnType<typeof hostNamespace>> | undefined;
  let cloud: TestCloud | undefined;
  const stop = async () => {
    // Guests outlive their cloud by design; a test that failed half-way must not leave one running.
    // The cloud stops first: its agent would otherwise start guests still building after the kill.
    await cloud?.stop();
    await run('pkill', ['-9', '-f', join(work, 'data')]).catch(() => undefined);
    await host?.cleanup();
    await ceph?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    [ceph, host] = await Promise.all([startCeph(), hostNamespace(tag)]);
    await reachCephFrom(ceph, host.name);
    cloud = await startTestCloud({ dataDir: join(work, 'data'), computeDriver: 'qemu', networkNetns: host.name, env: { ...ceph.env, ...settings } });
    const env = {
      ...{ OS_AUTH_URL: `${cloud.url}/identity`, OS_AUTH_TYPE: 'password', OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne' },
      ...{
        OS_USERNAME: 'admin',
        OS_PASSWORD: cloud.cloud.credentials!.password,
        OS_PROJECT_NAME: 'admin',
        OS_USER_DOMAIN_NAME: 'Default',
        OS_PROJECT_DOMAIN_NAME: 'Default',
      },
    };
    const cli = cliAs(() => env);
    const json = async (...args: string[]) => JSON.parse(await cli(...args, '-f', 'json'));
    const imageId = (await json('image', 'create', 'nubo-guest', '--file', raw, '--disk-format', 'raw', '--container-format', 'bare', '--public')).id as string;
    const pem = join(work, 'key.pem');
    writeFileSync(pem, await cli('keypair', 'create', 'mykey'));
    chmodSync(pem, 0o600);
    await cli('flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'm1.nano');
    await seedNetworks(cli);
    await cli('security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default');
    const netns = host.name;
    return {
      ceph,
      cloud,
      cli,
      json,
      imageId,
      stop,
      /** Polls until check holds (a failing check counts as not yet). */
      until: (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => eventually(what, () => check().catch(() => false), timeoutMs),
      consoleUntil: (name: string, pattern: RegExp, timeoutMs?: number) => consoleUntil(cli, name, pattern, timeoutMs),
      /** A floating IP for the server, and its ssh: one command as root through it. */
      async reach(name: string) {
        const ip = (await json('floating', 'ip', 'create', 'public-net')).floating_ip_address as string;
        await cli('server', 'add', 'floating', 'ip', name, ip);
        return (command: string) =>
          inNs(
            netns,
            ...['ssh', '-i', pem, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'],
            ...['-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${ip}`, command],
          ).then((r) => r.stdout.trim());
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type GuestCloud = Awaited<ReturnType<typeof startGuestCloudOnCeph>>;

/**
 * The guests' qemu runs in the namespace that stands for the host, whose 127.0.0.1 is its own, and
 * the test's Ceph listens on this namespace's: a forwarder for each of its ports (the monitor's,
 * the OSD's), listening in the host namespace and connecting from this one, stands for the storage
 * network between a hypervisor and its cluster. It runs in the host namespace, so the namespace's
 * cleanup ends it.
 */
async function reachCephFrom(ceph: TestCeph, netns: string): Promise<void> {
  type Dump = { osds: { up: number; public_addrs: { addrvec: { addr: string }[] } }[] };
  let dump: Dump = { osds: [] };
  // Every OSD up with its address: a forwarder missing for one leaves qemu waiting on it for ever.
  await eventually('the OSDs up with their addresses', async () => {
    dump = JSON.parse(await ceph.ceph(['osd', 'dump', '--format', 'json'])) as Dump;
    return dump.osds.length > 0 && dump.osds.every((o) => o.up === 1 && o.public_addrs.addrvec.length > 0);
  }, 60_000);
  const mon = /mon_host = \[v2:(127\.0\.0\.1:\d+)\]/.exec(readFileSync(ceph.conf, 'utf8'))![1]!;
  const ports = [mon, ...dump.osds.flatMap((o) => o.public_addrs.addrvec.map((a) => a.addr))].map((a) => a.slice(a.lastIndexOf(':') + 1));
  for (const port of new Set(ports)) {
    const here = `nsenter --net=/proc/${process.pid}/ns/net socat STDIO TCP\\:127.0.0.1\\:${port}`;
    // Its complaints go to the cluster's log directory, where a failed run can be read.
    const log = openSync(join(ceph.dir, 'log', `forward-${port}.log`), 'a');
    spawn('ip', ['netns', 'exec', netns, 'socat', '-d', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `EXEC:${here}`], {
      stdio: ['ignore', log, log],
      detached: true,
    }).unref();
    closeSync(log);
  }
  // The whole path, as qemu takes it: the monitor, then an OSD, from inside the host namespace.
  await eventually(
    'the Ceph cluster usable from the host namespace',
    () =>
      inNs(netns, 'rbd', '--conf', ceph.conf, '--id', 'admin', '--client_mount_timeout', '10', '--rados_osd_op_timeout', '10', 'ls', 'images').then(
        () => true,
        () => false,
      ),
    60_000,
  );
}
