import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGuestCloudOnCeph, type GuestCloud } from '../helpers/guest-cloud.ts';

// Volumes on RBD, with the real openstack CLI against a nubo on a single-node Ceph of the test's
// own (storage ceph): a volume made from the raw test image is a clone of it; hot-plugged into a
// running guest (qemu's rbd driver, the key as a secret object) it is written over ssh and grown
// while attached; a snapshot of it is an RBD snapshot, and a volume from that snapshot, plugged
// into the same guest, holds the bytes written. Deletes leave nothing in the pool.
let c: GuestCloud;
let ssh: (command: string) => Promise<string>;

/** Volume commands at the microversion that allows extending an in-use volume. */
const cinder = (...args: string[]) => c.cli('--os-volume-api-version', '3.42', ...args);
const statusOf = async (kind: 'volume' | 'volume snapshot', name: string) => (await c.json(...kind.split(' '), 'show', name)).status as string;

interface Info {
  size: number;
  parent?: { pool: string; image: string; snapshot: string };
}
const info = (volumeId: string) => c.ceph.rbdJson<Info>(['info', `volumes/volume-${volumeId}`]);

before(async () => {
  c = await startGuestCloudOnCeph('k');
  const { id } = await c.json('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey', 'vm-a');
  await c.until('vm-a ACTIVE', async () => (await c.json('server', 'show', id)).status === 'ACTIVE', 300_000);
  await c.consoleUntil('vm-a', /nubo-guest ready: .*keys=1/);
  ssh = await c.reach('vm-a');
  await c.until('ssh into vm-a', async () => (await ssh('hostname')) === 'vm-a', 90_000);
});
after(() => c?.stop());

const PATTERN = 'nubo-rbd-volume-pattern-0123456789';
let volImg: string;
let snapId: string;
let volSnap: string;

test('a volume from the raw image is a copy-on-write clone of it in the volumes pool', async () => {
  volImg = (await c.json('volume', 'create', '--image', 'nubo-guest', '--size', '1', 'vol-img')).id;
  await c.until('vol-img available', async () => (await statusOf('volume', 'vol-img')) === 'available');
  const { parent, size } = await info(volImg);
  assert.deepEqual({ pool: parent?.pool, image: parent?.image, snapshot: parent?.snapshot }, { pool: 'images', image: c.imageId, snapshot: 'snap' });
  assert.equal(size, 2 ** 30);
});

test('attached to the running guest, written over ssh, and grown while attached: the guest sees it all', async () => {
  await c.cli('server', 'add', 'volume', 'vm-a', 'vol-img');
  await c.until('vol-img in-use', async () => (await statusOf('volume', 'vol-img')) === 'in-use');
  await c.until('the guest sees /dev/vdb', async () => (await ssh('cat /sys/block/vdb/serial')) === volImg.slice(0, 20), 30_000);
  assert.equal(await ssh('cat /sys/block/vdb/size'), String(2 * 1024 * 1024));
  // The clone starts with the image's bytes: its first sector ends with the boot signature.
  assert.equal(await ssh('dd if=/dev/vdb bs=1 skip=510 count=2 2>/dev/null | od -An -tx1 | tr -d " "'), '55aa');
  await ssh(`printf '${PATTERN}' | dd of=/dev/vdb bs=512 seek=4096 conv=notrunc 2>/dev/null; sync`);
  await cinder('volume', 'set', '--size', '2', 'vol-img');
  await c.until('the guest sees 2 GiB', async () => (await ssh('cat /sys/block/vdb/size')) === String(4 * 1024 * 1024), 60_000);
  assert.equal((await info(volImg)).size, 2 * 2 ** 30);
});

test('a snapshot is a protected RBD snapshot; a volume from it is a clone that holds the bytes written', async () => {
  snapId = (await c.json('volume', 'snapshot', 'create', '--volume', 'vol-img', '--force', 'snap1')).id;
  await c.until('snap1 available', async () => (await statusOf('volume snapshot', 'snap1')) === 'available');
  const snaps = await c.ceph.rbdJson<{ name: string; protected: string }[]>(['snap', 'ls', `volumes/volume-${volImg}`]);
  assert.deepEqual(
    snaps.map((s) => [s.name, s.protected]),
    [[`snapshot-${snapId}`, 'true']],
  );
  // Written after the snapshot: the volume from it must not see this.
  await ssh(`printf 'AFTER' | dd of=/dev/vdb bs=512 seek=4096 conv=notrunc 2>/dev/null; sync`);

  volSnap = (await c.json('volume', 'create', '--snapshot', 'snap1', '--size', '2', 'vol-snap')).id;
  await c.until('vol-snap available', async () => (await statusOf('volume', 'vol-snap')) === 'available');
  const { parent } = await info(volSnap);
  assert.deepEqual({ image: parent?.image, snapshot: parent?.snapshot }, { image: `volume-${volImg}`, snapshot: `snapshot-${snapId}` });
  await c.cli('server', 'add', 'volume', 'vm-a', 'vol-snap');
  await c.until('the guest sees /dev/vdc', async () => (await ssh('cat /sys/block/vdc/serial')) === volSnap.slice(0, 20), 60_000);
  assert.equal(await ssh(`dd if=/dev/vdc bs=512 skip=4096 count=1 2>/dev/null | head -c ${PATTERN.length}`), PATTERN);
});

test('detach: the devices go from the guest and the volumes are available', async () => {
  await c.cli('server', 'remove', 'volume', 'vm-a', 'vol-snap');
  await c.cli('server', 'remove', 'volume', 'vm-a', 'vol-img');
  await c.until('both available', async () => (await statusOf('volume', 'vol-snap')) === 'available' && (await statusOf('volume', 'vol-img')) === 'available');
  assert.equal(await ssh('ls /sys/block | grep -c "^vd[bc]$" || true'), '0');
});

test('deletes leave no RBD image behind: the snapshot goes first (its clone is flattened), then the volumes', async () => {
  await c.cli('volume', 'snapshot', 'delete', 'snap1');
  await c.until('snap1 gone', async () => !(await c.cli('volume', 'snapshot', 'list', '-f', 'value', '-c', 'ID')).includes(snapId));
  assert.equal((await info(volSnap)).parent, undefined, 'vol-snap has its own copy now');
  await c.cli('volume', 'delete', 'vol-snap', 'vol-img');
  await c.until('volumes gone', async () => (await c.cli('volume', 'list', '-f', 'value', '-c', 'ID')).trim() === '');
  assert.deepEqual(await c.ceph.rbdJson(['ls', '-l', 'volumes']), []);
});
