import { join } from 'node:path';
import { objectArg } from '../../../lib/host/tls-psk.ts';
import type { GuestSpec, RbdConnection } from '../driver.ts';
import { blockdevOf, deviceArg, deviceOf, nodeNameOf, rbdFileOf, secretIdOf, tlsCredsOf } from './volumes.ts';
import { cdromArgs, controllerArgs, nicDriverOf, rootDeviceArg } from './devices.ts';
import { firmwareArgs } from './firmware.ts';

/** Where a guest's files are, in its directory. */
export interface GuestPaths {
  disk: string;
  console: string;
  qmp: string;
  /** The first serial port's listening socket, for the console proxy. */
  serial: string;
  /** The screen's VNC socket, for the console proxy. */
  vnc: string;
  pidfile: string;
  /** The root disk when it is an RBD image rather than the file `disk`. */
  rbdDisk?: RbdConnection;
  /** The directory of the files qemu reads cephx keys from (one per secret object id). */
  secrets?: string;
  /** A UEFI guest's own variable store. */
  nvram?: string;
}

/** The root disk's block node. */
const ROOT_NODE = 'root';

/** The cephx keys qemu needs for a guest's RBD disks, by secret object id. */
export function guestSecrets(spec: GuestSpec, paths: GuestPaths): Map<string, string> {
  const keys = new Map<string, string>();
  if (paths.rbdDisk?.key && !spec.rootVolume) keys.set(secretIdOf(ROOT_NODE), paths.rbdDisk.key);
  for (const v of [...(spec.rootVolume ? [spec.rootVolume] : []), ...(spec.volumes ?? [])]) {
    if (v.connection.driver === 'rbd' && v.connection.key) keys.set(secretIdOf(nodeNameOf(v.volumeId)), v.connection.key);
  }
  return keys;
}

/** A value inside a qemu option list, where a comma separates options and ",," is a comma. */
const opt = (value: string) => value.replaceAll(',', ',,');

/** The TLS credentials objects of a guest's volumes served over NBD (their keys in files). */
function tlsObjectArgs(spec: GuestSpec): string[] {
  return [...(spec.rootVolume ? [spec.rootVolume] : []), ...(spec.volumes ?? [])].flatMap((v) => {
    if (v.connection.driver !== 'nbd') return [];
    return ['-object', objectArg(tlsCredsOf(v.connection, nodeNameOf(v.volumeId)))];
  });
}

/**
 * The qemu command line of a guest: pure, so that tests compare it. qemu daemonizes once the
 * guest is set up, so the guest outlives the Nubo process that started it and is adopted again
 * by the next one through its pidfile and QMP socket. There is no -no-shutdown: when the guest
 * powers off, qemu exits. When the NICs' taps live in a network namespace, qemu is started in it
 * (it opens the taps where it runs); one guest's NICs must share one namespace.
 */
export function qemuArgv(spec: GuestSpec, paths: GuestPaths, accel: 'kvm' | 'tcg', binary = 'qemu-system-x86_64'): string[] {
  const namespaces = new Set(spec.nics.map((n) => n.netns ?? ''));
  if (namespaces.size > 1) throw new Error(`guest ${spec.uuid}: its NICs are in different network namespaces (${[...namespaces].join(', ')})`);
  const netns = spec.nics[0]?.netns;
  const argv = [
    binary,
    '-name',
    `${spec.name.replace(/[^\w.-]/g, '_')},debug-threads=on`,
    '-uuid',
    spec.uuid,
    '-machine',
    'pc',
    ...firmwareArgs(spec, paths.nvram),
    // tb-size bounds TCG's translation cache, the bulk of a software guest's memory on the host.
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=32']),
    '-m',
    String(spec.memoryMiB),
    '-smp',
    String(spec.vcpus),
    // What Nova tells its guests: cloud-init's ds-identify looks for this product name to use the
    // OpenStack metadata service when there is no config drive.
    '-smbios',
    `type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,family=Virtual Machine,serial=${spec.uuid},uuid=${spec.uuid}`,
    '-nodefaults',
    '-no-user-config',
    // The screen (a VGA card, below) is shown in no window: VNC on a unix socket serves it to the
    // console proxy.
    '-display',
    'none',
    '-vnc',
    `unix:${opt(paths.vnc)}`,
    // The serial port listens for the console proxy and logs everything the guest writes, a client
    // connected or not; logappend=on keeps the console of earlier boots across a stop and start.
    '-chardev',
    `socket,id=serial0,path=${opt(paths.serial)},server=on,wait=off,logfile=${opt(paths.console)},logappend=on`,
    '-serial',
    'chardev:serial0',
    '-qmp',
    `unix:${opt(paths.qmp)},server=on,wait=off`,
    // cephx keys as secret objects read from files: a key on the command line would show in ps.
    ...[...guestSecrets(spec, paths).keys()].flatMap((id) => {
      if (!paths.secrets) throw new Error(`guest ${spec.uuid}: an RBD disk has a key and there is no directory for it`);
      return ['-object', `secret,id=${id},file=${opt(join(paths.secrets, id))},format=base64`];
    }),
    ...tlsObjectArgs(spec),
    // A guest that boots from a volume opens it where it is: it has no disk of its own. The boot
    // disk is named by bootindex: without it SeaBIOS may try an attached volume first.
    ...controllerArgs(spec),
    ...(spec.rootVolume
      ? ['-blockdev', JSON.stringify(blockdevOf(spec.rootVolume)), '-device', deviceArg(deviceOf(spec.rootVolume, 0))]
      : paths.rbdDisk
        ? [
            '-blockdev',
            JSON.stringify({ 'node-name': ROOT_NODE, driver: 'raw', discard: 'unmap', file: rbdFileOf(paths.rbdDisk, ROOT_NODE) }),
            '-device',
            rootDeviceArg(spec),
          ]
        : // A node of its own (not -drive's): only such a node can be exported to the source of a
          // live migration while this qemu waits for it.
          [
            '-blockdev',
            JSON.stringify({ 'node-name': ROOT_NODE, driver: 'qcow2', discard: 'unmap', file: { driver: 'file', filename: paths.disk, discard: 'unmap' } }),
            '-device',
            rootDeviceArg(spec),
          ]),
    ...cdromArgs(spec),
    // Entropy for the guest's SSH host keys without waiting on its own pool.
    '-device',
    'virtio-rng-pci',
    // The screen the VNC console shows: Nova's guests have one too, and boot loaders draw on it.
    '-device',
    'VGA',
  ];
  if (spec.configDrive) argv.push('-drive', `file=${opt(spec.configDrive)},if=virtio,format=raw,readonly=on`);
  // Attached volumes after the disks it always had, in attach order: the guest names them as it
  // named them when they were hot-plugged (vdb, vdc…).
  for (const v of spec.volumes ?? []) argv.push('-blockdev', JSON.stringify(blockdevOf(v)), '-device', deviceArg(deviceOf(v)));
  if (!spec.nics.length) argv.push('-nic', 'none');
  spec.nics.forEach((nic, i) => {
    argv.push('-netdev', `tap,id=net${i},ifname=${opt(nic.tap)},script=no,downscript=no`);
    // romfile= skips the iPXE option ROM: guests boot from their disk, never from the network.
    const driver = nicDriverOf(spec);
    // host_mtu is virtio-net's alone: the emulated NICs learn their MTU from DHCP only.
    const mtu = nic.mtu && driver === 'virtio-net-pci' ? `,host_mtu=${nic.mtu}` : '';
    argv.push('-device', `${driver},netdev=net${i},mac=${nic.mac},romfile=${mtu}`);
  });
  argv.push('-daemonize', '-pidfile', paths.pidfile);
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}
