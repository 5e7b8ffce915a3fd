import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { convertToQcow2, infoProblem } from '../../src/compute/agent/convert.ts';
import { TerminalError } from '../../src/lib/reconcile/controller.ts';
import { tempDir } from '../helpers/cloud.ts';

// A host's conversion of VMDK, VHD, VHDX and VDI images to the qcow2 its guests' disks sit on,
// with real qemu-img: the guest sees the same bytes; an image that would make qemu-img read
// another file of the host is refused before anything reads it.
const run = promisify(execFile);
let work: string;
let source: string;

before(async () => {
  work = tempDir('nubo-convert-');
  source = join(work, 'source.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', source, '64M']);
  // Data at the start and past the middle, so that a conversion that dropped clusters shows.
  await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', '-c', 'write -P 0xa5 40M 64k', source]);
});
after(() => rmSync(work, { recursive: true, force: true }));

for (const [diskFormat, qemuFormat] of [
  ['vmdk', 'vmdk'],
  ['vhd', 'vpc'],
  ['vhdx', 'vhdx'],
  ['vdi', 'vdi'],
] as const) {
  test(`disk_format ${diskFormat}: converted to a standalone qcow2 holding the same disk`, async () => {
    const image = join(work, `image.${diskFormat}`);
    await run('qemu-img', ['convert', '-O', qemuFormat, source, image]);
    const target = join(work, `${diskFormat}.qcow2`);
    await convertToQcow2('img', image, diskFormat, target);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', target])).stdout);
    assert.equal(info.format, 'qcow2');
    assert.equal(info['backing-filename'], undefined);
    assert.ok(info['virtual-size'] >= 64 * 2 ** 20);
    // compare: exit 0 when the guest-visible contents are the same (a VHD may round the size up).
    await run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', source, target]);
    assert.ok(!existsSync(`${target}.part`));
  });
}

test('a VMDK descriptor whose extent is another file of the host is refused, and nothing is written', async () => {
  const descriptor = join(work, 'evil.vmdk');
  writeFileSync(
    descriptor,
    ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', 'createType="monolithicFlat"', 'RW 2048 FLAT "/etc/passwd" 0', ''].join('\n'),
  );
  const target = join(work, 'evil.qcow2');
  await assert.rejects(convertToQcow2('img', descriptor, 'vmdk', target), (err: Error) => {
    assert.ok(err instanceof TerminalError);
    assert.match(err.message, /Image img cannot be converted from vmdk: .*extents are other files/);
    return true;
  });
  assert.ok(!existsSync(target));
});

test('data of another format than declared (a qcow2 with a backing file, said to be VHDX) is refused', async () => {
  const overlay = join(work, 'overlay.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', source, overlay]);
  await assert.rejects(convertToQcow2('img', overlay, 'vhdx', join(work, 'overlay-out.qcow2')), /cannot be converted from vhdx: .*the qcow2 image names a backing file/);
});

test("what qemu-img info shows of a file reading another is refused: a backing file, a data file, an extent elsewhere", () => {
  assert.equal(infoProblem({ 'format-specific': { data: { extents: [{ filename: '/c/img' }] } } }, '/c/img'), undefined);
  assert.match(infoProblem({ 'backing-filename': '/etc/shadow' }, '/c/img')!, /backing file \(\/etc\/shadow\)/);
  assert.match(infoProblem({ 'format-specific': { data: { 'data-file': '/dev/sda' } } }, '/c/img')!, /data file/);
  assert.match(infoProblem({ 'format-specific': { data: { extents: [{ filename: '/c/img' }, { filename: '/c/other' }] } } }, '/c/img')!, /extent in another file \(\/c\/other\)/);
});
