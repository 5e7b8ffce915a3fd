import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatSniffer } from '../../src/image/formats/sniff.ts';
import { tempDir } from '../helpers/cloud.ts';
import { run } from './helpers.ts';

// The inspectors against files made by qemu-img itself and headers written by hand, streamed in
// chunks of several sizes so that no header is read only when it happens to arrive whole.

let dir: string;
before(() => {
  dir = tempDir('nubo-formats-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const qemuImg = async (...args: string[]) => run('qemu-img', args, { cwd: dir });
const file = (name: string) => readFileSync(join(dir, name));

/** The sniffer's verdict on data declared as `declared`, fed `chunk` bytes at a time. */
function sniff(data: Buffer, declared: string, chunk: number, strict = true): { virtualSize?: number } | string {
  const s = new FormatSniffer({ declared, strict });
  try {
    for (let i = 0; i < data.length; i += chunk) s.push(data.subarray(i, i + chunk));
    return s.finish();
  } catch (err) {
    return (err as Error).message;
  }
}

const CHUNKS = [1000, 4096, 65536, 1 << 20];
const accepts = (data: Buffer, declared: string, virtualSize: number) => {
  for (const chunk of CHUNKS) assert.deepEqual(sniff(data, declared, chunk), { virtualSize }, `${declared} in ${chunk}-byte chunks`);
};
const refuses = (data: Buffer, declared: string, why: RegExp) => {
  for (const chunk of CHUNKS) assert.match(String(sniff(data, declared, chunk)), why, `${declared} in ${chunk}-byte chunks`);
};

/** A minimal ISO 9660 image: a primary volume descriptor of `blocks` 2048-byte blocks. */
function iso(blocks: number): Buffer {
  const b = Buffer.alloc(20 * 2048);
  const pvd = 16 * 2048;
  b[pvd] = 1;
  b.write('CD001', pvd + 1, 'latin1');
  b[pvd + 6] = 1;
  b.writeUInt32LE(blocks, pvd + 80);
  b.writeUInt32BE(blocks, pvd + 84);
  b.writeUInt16LE(2048, pvd + 128);
  b.writeUInt16BE(2048, pvd + 130);
  return b;
}

test('qcow2, vmdk, vhd, vhdx and vdi images made by qemu-img are recognised with their virtual size', async () => {
  await qemuImg('create', '-q', '-f', 'qcow2', 'a.qcow2', '64M');
  await qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', 'v2.qcow2', '32M');
  await qemuImg('create', '-q', '-f', 'vmdk', 'a.vmdk', '32M');
  await qemuImg('create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', 's.vmdk', '32M');
  await qemuImg('create', '-q', '-f', 'vpc', 'a.vhd', '32M');
  await qemuImg('create', '-q', '-f', 'vhdx', 'a.vhdx', '32M');
  await qemuImg('create', '-q', '-f', 'vdi', 'a.vdi', '32M');
  accepts(file('a.qcow2'), 'qcow2', 64 << 20);
  accepts(file('v2.qcow2'), 'qcow2', 32 << 20);
  accepts(file('a.vmdk'), 'vmdk', 32 << 20);
  accepts(file('s.vmdk'), 'vmdk', 32 << 20);
  const vhd = JSON.parse((await qemuImg('info', '--output=json', 'a.vhd')).stdout)['virtual-size'];
  accepts(file('a.vhd'), 'vhd', vhd);
  accepts(file('a.vhdx'), 'vhdx', 32 << 20);
  accepts(file('a.vdi'), 'vdi', 32 << 20);
});

test('a fixed VHD is known by the footer in its last sector, at the end of the upload', async () => {
  await qemuImg('create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', 'f.vhd', '4M');
  const data = file('f.vhd');
  accepts(data, 'vhd', data.length - 512);
  refuses(data, 'raw', /does not match disk_format raw: it is vhd/);
});

test('raw data is raw, whatever its size; an ISO volume is accepted as iso or raw', () => {
  accepts(Buffer.alloc(3 * 1024 * 1024, 0x5a), 'raw', 3 * 1024 * 1024);
  accepts(Buffer.alloc(0), 'raw', 0);
  accepts(iso(20), 'iso', 20 * 2048);
  accepts(iso(20), 'raw', 20 * 2048);
  refuses(iso(20), 'qcow2', /does not match disk_format qcow2: it is (iso|not qcow2)/);
  refuses(Buffer.alloc(40000), 'iso', /does not match disk_format iso: it is not iso/);
});

test('data that contradicts the declared format is refused', async () => {
  await qemuImg('create', '-q', '-f', 'qcow2', 'm.qcow2', '16M');
  await qemuImg('create', '-q', '-f', 'qed', 'm.qed', '16M');
  refuses(file('m.qcow2'), 'raw', /disk_format raw: it is qcow2/);
  refuses(file('m.qcow2'), 'vmdk', /disk_format vmdk: it is qcow2/);
  refuses(file('m.qed'), 'raw', /disk_format raw: it is qed/);
  refuses(Buffer.alloc(1 << 20), 'qcow2', /disk_format qcow2: it is not qcow2/);
  // A qcow2 header over an ISO volume could be read either way: neither is accepted.
  const both = iso(20);
  file('m.qcow2').copy(both, 0, 0, 4096);
  refuses(both, 'qcow2', /it is at once qcow2 and iso/);
});

test('a qcow2 with a backing file or an external data file is refused, whatever was declared', async () => {
  await qemuImg('create', '-q', '-f', 'raw', 'base.raw', '16M');
  await qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'b.qcow2');
  await qemuImg('create', '-q', '-f', 'qcow2', '-o', 'data_file=ext.raw', 'd.qcow2', '16M');
  refuses(file('b.qcow2'), 'qcow2', /refused: the qcow2 image names a backing file/);
  refuses(file('b.qcow2'), 'raw', /backing file/);
  refuses(file('d.qcow2'), 'qcow2', /refused: the qcow2 image keeps its data in an external file/);
  assert.match(String(sniff(file('b.qcow2'), 'qcow2', 65536, false)), /backing file/, 'also inside a non-bare container');
});

test('a VMDK whose descriptor names extents outside the file is refused (OSSA-2024-001)', async () => {
  // A text descriptor makes qemu read any file of the host as the disk: the exploit itself.
  writeFileSync(join(dir, 'evil.vmdk'), '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/passwd" 0\n');
  assert.match((await qemuImg('info', 'evil.vmdk')).stdout, /\/etc\/passwd/);
  refuses(file('evil.vmdk'), 'vmdk', /refused: the VMDK is a bare descriptor whose extents are other files/);
  await qemuImg('create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'desc.vmdk', '1M');
  refuses(file('desc.vmdk'), 'vmdk', /bare descriptor/);
  // The descriptor embedded in a sparse VMDK must describe that file alone.
  await qemuImg('create', '-q', '-f', 'vmdk', 'x.vmdk', '32M');
  const own = file('x.vmdk').toString('latin1');
  const edit = (from: string, to: string) => Buffer.from(own.replace(from, to), 'latin1');
  refuses(edit('RW 65536 SPARSE "x.vmdk"', 'RW 65536 FLAT "/etc/passwd" 0'), 'vmdk', /refused: the VMDK descriptor lists extents \(FLAT\) other than the file itself/);
  refuses(edit('RW 65536 SPARSE "x.vmdk"\n', 'RW 65536 SPARSE "x.vmdk"\nRW 8 SPARSE "y.vmdk"\n'), 'vmdk', /extents \(SPARSE, SPARSE\)/);
  refuses(edit('createType="monolithicSparse"', 'createType="vmfs"'), 'vmdk', /create type vmfs keeps data outside/);
  refuses(edit('parentCID=ffffffff', 'parentFileNameHint="base.vmdk"'), 'vmdk', /delta disk that names a parent/);
});

test('differencing VHD, VHDX and VDI images are refused', async () => {
  const vhd = Buffer.alloc(1024);
  vhd.write('conectix', 0, 'latin1');
  vhd.writeUInt32BE(4, 60);
  refuses(vhd, 'vhd', /VHD is a differencing disk/);
  await qemuImg('create', '-q', '-f', 'vdi', 'd.vdi', '1M');
  const vdi = file('d.vdi');
  vdi.writeUInt32LE(4, 0x4c);
  refuses(vdi, 'vdi', /VDI image depends on a parent/);
});

test('in a non-bare container only what is never acceptable is refused', async () => {
  await qemuImg('create', '-q', '-f', 'qcow2', 'c.qcow2', '16M');
  assert.deepEqual(sniff(file('c.qcow2'), 'raw', 65536, false), {});
  assert.deepEqual(sniff(Buffer.alloc(5000), 'qcow2', 65536, false), {});
});
