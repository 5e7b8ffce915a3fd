import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hosts } from '../../src/compute/tables.ts';
import { startGuestCloudOnCeph, type GuestCloud } from '../helpers/guest-cloud.ts';

// Instance disks on RBD, with the real openstack CLI against a nubo on a single-node Ceph of the
// test's own (storage ceph, so compute_images_type rbd): the test guest, uploaded raw, boots from
// a copy-on-write clone of its image in the vms pool, reaches its ready line and answers ssh
// through a floating IP, with its cephx key nowhere on qemu's command line. Ten more servers from
// the image take no space of their own; a snapshot of the server is an image that boots; deletes
// leave nothing in the pool.
const run = promisify(execFile);
let c: GuestCloud;

interface Du {
  images: { name: string; provisioned_size: number; used_size: number }[];
}
const vmsDisks = async () => (await c.ceph.rbd(['ls', 'vms'])).split('\n').filter(Boolean);

/** A server made and ACTIVE; polled here, as the CLI's own --wait may outlast its time limit. */
async function boot(name: string, image: string): Promise<string> {
  const { id } = await c.json('server', 'create', '--flavor', 'm1.nano', '--image', image, '--network', 'private-net', '--key-name', 'mykey', name);
  await c.until(`${name} ACTIVE`, async () => (await c.json('server', 'show', id)).status === 'ACTIVE', 300_000);
  return id;
}

async function deleteServers(...ids: string[]): Promise<void> {
  await c.cli('server', 'delete', ...ids);
  await c.until(
    'the servers gone',
    async () => !(await c.cli('server', 'list', '-f', 'value', '-c', 'ID')).split('\n').some((id) => ids.includes(id)),
    300_000,
  );
}

before(async () => {
  c = await startGuestCloudOnCeph('r');
  // Room for eleven one-vCPU servers at once: the quota, and the host's CPU allocation ratio (two
  // cores × 4 by default), raised as an operator raises Nova's cpu_allocation_ratio.
  await c.cli('quota', 'set', '--instances', '20', '--cores', '20', 'admin');
  await c.cloud.cloud.store.db.update(hosts).set({ cpuRatio: 16 });
});
after(() => c?.stop());

let vm1: string;

test('the root disk is a clone of the image in the vms pool, grown to the flavor; the guest boots from it and answers ssh; its key is not on the command line', async () => {
  vm1 = await boot('vm1', 'nubo-guest');
  const info = await c.ceph.rbdJson<{ size: number; parent: { pool: string; image: string; snapshot: string } }>(['info', `vms/${vm1}_disk`]);
  assert.deepEqual(
    { pool: info.parent.pool, image: info.parent.image, snapshot: info.parent.snapshot },
    { pool: 'images', image: c.imageId, snapshot: 'snap' },
  );
  assert.equal(info.size, 2 ** 30, "the flavor's 1 GiB");
  await c.consoleUntil('vm1', /nubo-guest ready: .*keys=1/);
  const ssh = await c.reach('vm1');
  await c.until('ssh into vm1', async () => (await ssh('hostname')) === 'vm1', 90_000);
  // The guest's disk is the RBD image: 1 GiB in 512-byte sectors.
  assert.equal(await ssh('cat /sys/block/vda/size'), String(2 * 1024 * 1024));

  const { stdout: pid } = await run('pgrep', ['-f', `qemu-system-x86_64.*${vm1}`]);
  const argv = readFileSync(`/proc/${pid.trim()}/cmdline`, 'utf8');
  const key = /key = (\S+)/.exec(readFileSync(join(c.ceph.dir, 'keyring', `client.${c.ceph.env.NUBO_CEPH_COMPUTE_USER}.keyring`), 'utf8'))![1]!;
  assert.match(argv, /"driver":"rbd","pool":"vms","image":"[^"]+_disk"/);
  assert.match(argv, /secret,id=key-root,file=/);
  assert.ok(!argv.includes(key), "the cephx key is not in qemu's command line");
  const files = readdirSync(join(c.cloud.dataDir, 'compute', 'instances', vm1));
  assert.deepEqual(
    files.filter((f) => f.startsWith('key-')),
    [],
    'the key file qemu read at start is gone',
  );
});

test('ten more servers from the image use about no space: clones share the image', async () => {
  const [image] = (await c.ceph.rbdJson<Du>(['du', `images/${c.imageId}`])).images;
  await c.cli('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--min', '10', '--max', '10', 'many');
  await c.until(
    'ten servers ACTIVE',
    async () => (await c.json('server', 'list', '--name', '^many')).filter((s: { Status: string }) => s.Status === 'ACTIVE').length === 10,
    600_000,
  );
  const du = await c.ceph.rbdJson<Du>(['du', '-p', 'vms']);
  const clones = du.images.filter((i) => i.name.endsWith('_disk') && !i.name.startsWith(vm1));
  assert.equal(clones.length, 10);
  const used = clones.reduce((sum, i) => sum + i.used_size, 0);
  assert.ok(used < image!.used_size, `ten clones use ${used} bytes, less than the one image's ${image!.used_size}`);
  const many = (await c.json('server', 'list', '--name', '^many')).map((s: { ID: string }) => s.ID) as string[];
  await deleteServers(...many);
  assert.deepEqual(await vmsDisks(), [`${vm1}_disk`]);
});

test('server image create: an image made from the RBD disk boots a server (an imported disk, the image being qcow2)', async () => {
  const snap = await c.json('server', 'image', 'create', '--name', 'vm1-snap', 'vm1');
  await c.until('the snapshot image active', async () => (await c.json('image', 'show', snap.id)).status === 'active', 300_000);
  // The snapshot is an RBD snapshot taken and dropped: the disk keeps none.
  assert.deepEqual(await c.ceph.rbdJson(['snap', 'ls', `vms/${vm1}_disk`]), []);
  const vm2 = await boot('vm2', 'vm1-snap');
  await c.consoleUntil('vm2', /nubo-guest ready: hostname=vm2/);
  assert.equal((await c.ceph.rbdJson<{ parent?: unknown }>(['info', `vms/${vm2}_disk`])).parent, undefined);
  await deleteServers(vm2);
  await c.cli('image', 'delete', 'vm1-snap');
});

test('deleting the server removes its clone; the image can go then', async () => {
  await deleteServers(vm1);
  assert.deepEqual(await vmsDisks(), []);
  await c.cli('image', 'delete', 'nubo-guest');
  assert.equal((await c.ceph.rbd(['ls', 'images'])).trim(), '');
});
