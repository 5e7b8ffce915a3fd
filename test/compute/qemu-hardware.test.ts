import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestSpec } from '../../src/compute/virt/driver.ts';
import { hardwareOf, hardwareProblem } from '../../src/compute/virt/hardware.ts';
import { qemuArgv, type GuestPaths } from '../../src/compute/virt/qemu/cmdline.ts';
import { OVMF_CODE } from '../../src/compute/virt/qemu/firmware.ts';

// The image properties hw_disk_bus, hw_cdrom_bus, hw_vif_model and hw_firmware_type on the qemu
// command line, and an ISO image booted as a CD-ROM beside a blank root disk.

const uuid = '6f1c2a9e-4b7d-4e21-9c0a-2d5e8f3b7a10';
const dir = `/var/lib/nubo/compute/instances/${uuid}`;
const paths: GuestPaths = {
  ...{ disk: `${dir}/disk`, console: `${dir}/console.log`, qmp: `${dir}/qmp.sock`, serial: `${dir}/serial.sock`, vnc: `${dir}/vnc.sock` },
  ...{ pidfile: `${dir}/qemu.pid`, nvram: `${dir}/nvram.fd` },
};
const spec: GuestSpec = {
  uuid,
  name: 'web',
  vcpus: 1,
  memoryMiB: 256,
  rootGiB: 1,
  image: { id: 'img', path: '/images/img', format: 'qcow2' },
  nics: [{ mac: 'fa:16:3e:00:00:01', tap: 'tap0a1b2c3d-4e', mtu: 1450 }],
};
const iso: GuestSpec = { ...spec, image: { id: 'iso', path: '/images/iso', format: 'iso' } };
const withHw = (s: GuestSpec, properties: Record<string, string>): GuestSpec => ({ ...s, hardware: hardwareOf(properties) });

const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
/** The disks' and NICs' devices and their controllers, in order (the screen is not the image's). */
const devices = (s: GuestSpec) => valuesOf(qemuArgv(s, paths, 'tcg'), '-device').filter((d) => d !== 'VGA');

test("without properties: Nova's defaults, a virtio root disk booted first and a virtio NIC with the network's MTU", () => {
  assert.deepEqual(devices(spec), [
    'virtio-blk-pci,drive=root,bootindex=0',
    'virtio-rng-pci',
    'virtio-net-pci,netdev=net0,mac=fa:16:3e:00:00:01,romfile=,host_mtu=1450',
  ]);
  assert.deepEqual(devices(withHw(spec, {})), devices(spec));
  assert.equal(valuesOf(qemuArgv(spec, paths, 'tcg'), '-drive').filter((d) => d.includes('pflash')).length, 0, 'BIOS: no flash drives');
});

test('hw_disk_bus: the root disk on a virtio-scsi, AHCI (sata) or IDE bus, with the controller it needs, once', () => {
  assert.deepEqual(devices(withHw(spec, { hw_disk_bus: 'scsi' })).slice(0, 2), ['virtio-scsi-pci,id=scsi0', 'scsi-hd,drive=root,bus=scsi0.0,scsi-id=0,lun=0,bootindex=0']);
  assert.deepEqual(devices(withHw(spec, { hw_disk_bus: 'sata' })).slice(0, 2), ['ich9-ahci,id=sata0', 'ide-hd,drive=root,bus=sata0.0,bootindex=0']);
  // machine pc has its IDE controller built in.
  assert.deepEqual(devices(withHw(spec, { hw_disk_bus: 'ide' })).slice(0, 1), ['ide-hd,drive=root,bus=ide.0,unit=0,bootindex=0']);
  const bothScsi = devices(withHw(iso, { hw_disk_bus: 'scsi', hw_cdrom_bus: 'scsi' }));
  assert.equal(bothScsi.filter((d) => d.startsWith('virtio-scsi-pci')).length, 1);
});

test('hw_vif_model: e1000 and rtl8139 NICs, without the virtio-only host_mtu', () => {
  assert.ok(devices(withHw(spec, { hw_vif_model: 'e1000' })).includes('e1000,netdev=net0,mac=fa:16:3e:00:00:01,romfile='));
  assert.ok(devices(withHw(spec, { hw_vif_model: 'rtl8139' })).includes('rtl8139,netdev=net0,mac=fa:16:3e:00:00:01,romfile='));
});

test('an ISO image: a read-only CD-ROM booted first (IDE by default, hw_cdrom_bus otherwise), the blank root disk second', () => {
  const argv = qemuArgv(iso, paths, 'tcg');
  assert.ok(valuesOf(argv, '-drive').includes('file=/images/iso,if=none,id=cdrom,format=raw,readonly=on,media=cdrom'));
  assert.equal(JSON.parse(valuesOf(argv, '-blockdev')[0]!).file.filename, `${dir}/disk`);
  assert.deepEqual(devices(iso).slice(0, 2), ['virtio-blk-pci,drive=root,bootindex=1', 'ide-cd,drive=cdrom,bus=ide.1,unit=0,bootindex=0']);
  assert.deepEqual(devices(withHw(iso, { hw_cdrom_bus: 'sata' })).slice(0, 3), [
    'ich9-ahci,id=sata0',
    'virtio-blk-pci,drive=root,bootindex=1',
    'ide-cd,drive=cdrom,bus=sata0.1,bootindex=0',
  ]);
  assert.deepEqual(devices(withHw(iso, { hw_cdrom_bus: 'scsi', hw_disk_bus: 'ide' })).slice(0, 3), [
    'virtio-scsi-pci,id=scsi0',
    'ide-hd,drive=root,bus=ide.0,unit=0,bootindex=1',
    'scsi-cd,drive=cdrom,bus=scsi0.0,scsi-id=1,lun=0,bootindex=0',
  ]);
  assert.ok(!devices(spec).some((d) => d.includes('cdrom')), 'a disk image has no CD-ROM');
});

test("hw_firmware_type=uefi: Debian's OVMF code read-only and the guest's own variable store", () => {
  const drives = valuesOf(qemuArgv(withHw(spec, { hw_firmware_type: 'uefi' }), paths, 'tcg'), '-drive');
  assert.deepEqual(
    drives.filter((d) => d.includes('pflash')),
    [`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, `if=pflash,format=raw,unit=1,file=${dir}/nvram.fd`],
  );
  assert.deepEqual(devices(withHw(spec, { hw_firmware_type: 'bios' })), devices(spec));
});

test('a guest booted from a volume keeps it virtio-blk whatever hw_disk_bus says, and needs no controller for it', () => {
  const fromVolume: GuestSpec = {
    ...spec,
    image: undefined,
    hardware: hardwareOf({ hw_disk_bus: 'scsi' }),
    rootVolume: { volumeId: '0b7e1f52-6d0c-4a8e-9f3b-1c2d3e4f5a6b', connection: { driver: 'raw', path: '/vol' } },
  };
  const d = devices(fromVolume);
  assert.ok(d[0]!.startsWith('virtio-blk-pci,id=vol-'));
  assert.ok(!d.some((x) => x.startsWith('virtio-scsi-pci')));
});

test('values Nova does not know are refused with the ones it does', () => {
  assert.equal(hardwareProblem({ hw_disk_bus: 'virtio', hw_vif_model: 'virtio' }), undefined);
  assert.match(hardwareProblem({ hw_disk_bus: 'floppy' })!, /hw_disk_bus=floppy .* virtio, scsi, sata, ide/);
  assert.match(hardwareProblem({ hw_cdrom_bus: 'virtio' })!, /hw_cdrom_bus=virtio .* ide, sata, scsi/);
  assert.match(hardwareProblem({ hw_vif_model: 'ne2k_pci' })!, /hw_vif_model/);
  assert.match(hardwareProblem({ hw_firmware_type: 'coreboot' })!, /hw_firmware_type=coreboot .* bios, uefi/);
  assert.throws(() => hardwareOf({ hw_disk_bus: 'floppy' }), /hw_disk_bus/);
});
