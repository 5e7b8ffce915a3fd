import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAs, nubo, spawnNubo, tempDir, type SpawnedNubo } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';

// `server add volume`, `server remove volume` and boot from volume with nubo and with the real
// openstack CLI, same arguments, same output, on the fake hypervisor (test/volume/attach.test.ts
// does it with real guests).
let cloud: SpawnedNubo;
let work: string;
const openstack = cliAs(() => cloud.env);
const nuboCli = cliAs(() => cloud.env, nubo);
const json =
  (cli: typeof openstack) =>
  async (...args: string[]) =>
    JSON.parse(await cli(...args, '-f', 'json'));

before(async () => {
  cloud = await spawnNubo({ args: ['--compute-driver', 'fake'] });
  work = tempDir('nubo-volume-cli-');
  const file = join(work, 'disk.raw');
  writeFileSync(file, Buffer.alloc(1 << 20));
  await openstack('image', 'create', 'img', '--file', file, '--disk-format', 'raw', '--container-format', 'bare');
  await openstack('flavor', 'create', '--ram', '128', '--disk', '1', '--vcpus', '1', 'tiny');
  await openstack('network', 'create', 'net');
  await openstack('subnet', 'create', '--network', 'net', '--subnet-range', '10.9.0.0/24', 'sub');
});
after(async () => {
  await cloud?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const status = async (volume: string) => (await json(openstack)('volume', 'show', volume)).status as string;

for (const [name, cli] of [
  ['openstack', openstack],
  ['nubo', nuboCli],
] as const) {
  test(`${name}: server add volume prints the attachment; server remove volume detaches it; boot from volume`, async () => {
    const j = json(cli);
    const server = await j('server', 'create', '--flavor', 'tiny', '--image', 'img', '--network', 'net', '--wait', `vm-${name}`);
    const volume = (await json(openstack)('volume', 'create', '--size', '1', `vol-${name}`)).id;
    await eventually('volume available', async () => (await status(volume)) === 'available');
    const attached = await j('server', 'add', 'volume', `vm-${name}`, `vol-${name}`);
    // Both negotiate a microversion past 2.79, where 2.70's tag and 2.79's delete_on_termination show.
    assert.deepEqual(attached, { ID: volume, 'Server ID': server.id, 'Volume ID': volume, Device: '/dev/vdb', Tag: null, 'Delete On Termination': false });
    await eventually('volume in-use', async () => (await status(volume)) === 'in-use');
    // openstack's server show asks for 2.1 unless told otherwise; nubo negotiates, and from 2.3 on
    // each attached volume says whether it goes with the server.
    const shownLater = name === 'nubo' ? { delete_on_termination: false } : {};
    assert.deepEqual((await j('server', 'show', `vm-${name}`)).volumes_attached, [{ id: volume, ...shownLater }]);
    assert.equal(await cli('server', 'remove', 'volume', `vm-${name}`, `vol-${name}`), '');
    await eventually('volume available again', async () => (await status(volume)) === 'available');

    const bfv = await j('server', 'create', '--flavor', 'tiny', '--image', 'img', '--boot-from-volume', '1', '--network', 'net', '--wait', `bfv-${name}`);
    assert.equal(bfv.image, 'N/A (booted from volume)');
    const [root] = bfv.volumes_attached;
    assert.equal((await json(openstack)('volume', 'show', root.id)).attachments[0].device, '/dev/vda');
    const byVolume = await j('server', 'create', '--flavor', 'tiny', '--volume', `vol-${name}`, '--network', 'net', '--wait', `byvol-${name}`);
    assert.deepEqual(byVolume.volumes_attached, [{ id: volume, ...shownLater }]);
    // A --block-device that makes the root volume from the image and has it go with the server
    // (openstackclient 6.0 wants --image beside it).
    const image = (await json(openstack)('image', 'show', 'img')).id;
    const mapping = `source_type=image,uuid=${image},destination_type=volume,volume_size=1,delete_on_termination=true,boot_index=0`;
    const byMapping = await j('server', 'create', '--flavor', 'tiny', '--image', 'img', '--block-device', mapping, '--network', 'net', '--wait', `bdm-${name}`);
    const [made] = byMapping.volumes_attached;
    const madeVolume = await json(openstack)('volume', 'show', made.id);
    assert.deepEqual([madeVolume.status, madeVolume.size, madeVolume.attachments[0].device], ['in-use', 1, '/dev/vda']);
    assert.equal(madeVolume.volume_image_metadata.image_id, image);
    await cli('server', 'delete', '--wait', `vm-${name}`, `bfv-${name}`, `byvol-${name}`, `bdm-${name}`);
    // Neither of the first two was to be deleted with its server; the mapped one was.
    assert.equal(await status(volume), 'available');
    assert.equal(await status(root.id), 'available');
    await eventually('the mapped volume is deleted', async () => !(await openstack('volume', 'list', '-f', 'value', '-c', 'ID')).includes(made.id));
    await openstack('volume', 'delete', volume, root.id);
  });
}
