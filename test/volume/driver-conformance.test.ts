import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/lib/host/run.ts';
import { blockdevOptions, ImageTooLargeError, SourceMissingError, type VolumeDriver } from '../../src/volume/drivers/driver.ts';
import { openFileDriver } from '../../src/volume/drivers/file.ts';
import { openRbdDriver } from '../../src/volume/drivers/rbd.ts';
import { CephCli } from '../../src/lib/ceph/index.ts';
import { clientAuth } from '../../src/lib/ceph/auth.ts';
import { tempDir } from '../helpers/cloud.ts';
import { startCeph } from '../helpers/ceph.ts';

// The contract of drivers/driver.ts, run against every volume driver. Bytes are written and
// checked through qemu-io on the driver's own connection(), as a guest would reach them.

const MiB = 1 << 20;
let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

async function qemuIo(driver: VolumeDriver, id: string, command: string): Promise<string> {
  const conn = driver.connection(id);
  // An RBD volume's key reaches qemu as a secret object read from a file, as a guest's qemu gets it.
  const secret = conn.driver === 'rbd' ? ['--object', `secret,id=key0,file=${keyFile(conn.key)},format=base64`] : [];
  const spec = `json:${JSON.stringify(blockdevOptions(conn, conn.driver === 'rbd' ? 'key0' : undefined))}`;
  const { stdout } = await run(['qemu-io', ...secret, '-c', command, spec]);
  if (/fail|error|Pattern verification/i.test(stdout)) throw new Error(`qemu-io ${command}: ${stdout}`);
  return stdout;
}
const write = (d: VolumeDriver, id: string, pattern: number, offset: number, len: number) => qemuIo(d, id, `write -P 0x${pattern.toString(16)} ${offset} ${len}`);
const expect = (d: VolumeDriver, id: string, pattern: number, offset: number, len: number) => qemuIo(d, id, `read -P 0x${pattern.toString(16)} ${offset} ${len}`);

async function bytes(d: VolumeDriver, id: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await d.read(id)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const isZero = (b: Buffer) => b.every((x) => x === 0);

const keys = tempDir('nubo-volkeys-');
process.on('exit', () => rmSync(keys, { recursive: true, force: true }));
function keyFile(key: string): string {
  const path = join(keys, createHash('sha256').update(key).digest('hex').slice(0, 16));
  writeFileSync(path, key, { mode: 0o600 });
  return path;
}

function conformance(name: string, open: () => Promise<{ driver: VolumeDriver; close(): Promise<void> }>) {
  describe(`volume driver: ${name}`, () => {
    let d: VolumeDriver;
    let close: () => Promise<void>;
    let work: string;
    before(async () => {
      ({ driver: d, close } = await open());
      work = tempDir('nubo-voltest-');
    });
    after(async () => {
      await close();
      rmSync(work, { recursive: true, force: true });
    });

    test('a blank volume has its size, reads zeros everywhere, and a repeated create keeps it', async () => {
      const id = uuid();
      await d.createBlank(id, 8 * MiB);
      assert.equal(await d.size(id), 8 * MiB);
      const b = await bytes(d, id);
      assert.equal(b.length, 8 * MiB);
      assert.ok(isZero(b));
      await write(d, id, 0x5a, 0, MiB);
      await d.createBlank(id, 8 * MiB);
      await expect(d, id, 0x5a, 0, MiB);
      assert.ok((await d.list()).volumes.includes(id));
    });

    test("a deleted volume's bytes are not readable by the volumes made after it", async () => {
      const id = uuid();
      await d.createBlank(id, 4 * MiB);
      await write(d, id, 0xee, 0, 4 * MiB);
      await d.delete(id);
      await d.delete(id);
      assert.equal(await d.size(id), undefined);
      assert.ok(!(await d.list()).volumes.includes(id));
      await d.createBlank(id, 4 * MiB);
      assert.ok(isZero(await bytes(d, id)));
      const other = uuid();
      await d.createBlank(other, 4 * MiB);
      assert.ok(isZero(await bytes(d, other)));
    });

    test('a snapshot keeps the bytes of its moment; a volume from it holds them, grown with zeros', async () => {
      const vol = uuid();
      const snap = uuid();
      await d.createBlank(vol, 4 * MiB);
      await write(d, vol, 0x11, 0, 2 * MiB);
      await d.createSnapshot(snap, vol);
      await d.createSnapshot(snap, vol);
      assert.ok((await d.list()).snapshots.includes(snap));
      await write(d, vol, 0x22, 0, 2 * MiB);
      const clone = uuid();
      await d.cloneFromSnapshot(clone, snap, 6 * MiB);
      assert.equal(await d.size(clone), 6 * MiB);
      await expect(d, clone, 0x11, 0, 2 * MiB);
      await expect(d, clone, 0x00, 2 * MiB, 4 * MiB);
      await expect(d, vol, 0x22, 0, 2 * MiB);
      // The clone is its own: writing it changes neither the snapshot nor the volume.
      await write(d, clone, 0x33, 0, MiB);
      const again = uuid();
      await d.cloneFromSnapshot(again, snap, 4 * MiB);
      await expect(d, again, 0x11, 0, 2 * MiB);
      await d.deleteSnapshot(snap);
      await d.deleteSnapshot(snap);
      assert.ok(!(await d.list()).snapshots.includes(snap));
      await expect(d, clone, 0x33, 0, MiB);
    });

    test('a clone of a volume holds its current bytes and is independent of it', async () => {
      const src = uuid();
      await d.createBlank(src, 4 * MiB);
      await write(d, src, 0x44, MiB, MiB);
      const copy = uuid();
      await d.cloneFromVolume(copy, src, 8 * MiB);
      assert.equal(await d.size(copy), 8 * MiB);
      await expect(d, copy, 0x00, 0, MiB);
      await expect(d, copy, 0x44, MiB, MiB);
      await write(d, src, 0x55, MiB, MiB);
      await expect(d, copy, 0x44, MiB, MiB);
    });

    test('a clone from a source that is gone fails and leaves nothing', async () => {
      const id = uuid();
      await assert.rejects(d.cloneFromSnapshot(id, uuid(), MiB), SourceMissingError);
      await assert.rejects(d.cloneFromVolume(id, uuid(), MiB), SourceMissingError);
      assert.equal(await d.size(id), undefined);
    });

    test('extend grows a volume, keeps its bytes, reads zeros after them, and never shrinks', async () => {
      const id = uuid();
      await d.createBlank(id, 2 * MiB);
      await write(d, id, 0x66, 0, 2 * MiB);
      await d.extend(id, 6 * MiB);
      await d.extend(id, 6 * MiB);
      assert.equal(await d.size(id), 6 * MiB);
      await expect(d, id, 0x66, 0, 2 * MiB);
      await expect(d, id, 0x00, 2 * MiB, 4 * MiB);
      await d.extend(id, MiB);
      assert.equal(await d.size(id), 6 * MiB);
    });

    test("a volume from a qcow2 image holds the image's bytes, as qemu-img converts them, grown to the volume's size", async () => {
      const image = join(work, 'image.qcow2');
      await run(['qemu-img', 'create', '-q', '-f', 'qcow2', image, String(3 * MiB)]);
      await run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x77 512K 1M', image]);
      const reference = join(work, 'reference.raw');
      await run(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', image, reference]);
      const id = uuid();
      await d.createFromImage(id, { path: image, format: 'qcow2' }, 4 * MiB);
      const b = await bytes(d, id);
      assert.equal(b.length, 4 * MiB);
      const { readFile } = await import('node:fs/promises');
      const ref = await readFile(reference);
      assert.equal(createHash('sha256').update(b.subarray(0, ref.length)).digest('hex'), createHash('sha256').update(ref).digest('hex'));
      assert.ok(isZero(b.subarray(ref.length)));
      await expect(d, id, 0x77, 512 * 1024, MiB);
    });

    test('an image larger than the volume is refused and leaves nothing', async () => {
      const image = join(work, 'big.raw');
      writeFileSync(image, Buffer.alloc(3 * MiB, 1));
      const id = uuid();
      await assert.rejects(d.createFromImage(id, { path: image, format: 'raw' }, 2 * MiB), ImageTooLargeError);
      assert.equal(await d.size(id), undefined);
    });
  });
}

conformance('rbd', async () => {
  const ceph = await startCeph();
  try {
    const cli = new CephCli({ conf: ceph.conf, user: ceph.env.NUBO_CEPH_VOLUME_USER!, pool: 'volumes' });
    const driver = openRbdDriver({ cli, auth: await clientAuth(ceph.conf, cli.user), imagePool: 'images' });
    return { driver, close: () => ceph.stop() };
  } catch (err) {
    await ceph.stop();
    throw err;
  }
});

conformance('file', async () => {
  const root = tempDir('nubo-volumes-');
  const driver = await openFileDriver(root);
  return { driver, close: async () => rmSync(root, { recursive: true, force: true }) };
});

test('file driver: sweep removes what an interrupted create left, and volumes are sparse', async () => {
  const root = tempDir('nubo-volumes-');
  try {
    const d = await openFileDriver(root);
    writeFileSync(join(root, 'tmp', `${uuid()}.leftover`), 'x');
    await d.sweep();
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    const id = uuid();
    await d.createBlank(id, 1 << 30);
    const { stdout } = await run(['du', '-k', join(root, 'volumes', `${id}.raw`)]);
    assert.ok(Number(stdout.split('\t')[0]) < 1024, `a blank 1 GiB volume occupies ${stdout}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
