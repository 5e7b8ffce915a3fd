import type { GuestSpec } from '../driver.ts';

/** Where a guest's files are, in its directory. */
export interface GuestPaths {
  disk: string;
  console: string;
  qmp: string;
  pidfile: string;
}

/**
 * The qemu command line of a guest: pure, so that tests compare it. qemu daemonizes once the
 * guest is set up, so the guest outlives the Nubo process that started it and is adopted again
 * by the next one through its pidfile and QMP socket. When the guest powers off, qemu exits.
 */
export function qemuArgv(spec: GuestSpec, paths: GuestPaths, accel: 'kvm' | 'tcg', binary = 'qemu-system-x86_64'): string[] {
  const argv = [
    binary,
    '-name',
    `${spec.name.replace(/[^\w.-]/g, '_')},debug-threads=on`,
    '-uuid',
    spec.uuid,
    '-machine',
    'pc',
    // tb-size bounds TCG's translation cache, the bulk of a software guest's memory on the host.
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=32']),
    '-m',
    String(spec.memoryMiB),
    '-smp',
    String(spec.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    // append=on keeps the console of earlier boots across a stop and start, as a serial log should.
    '-chardev',
    `file,id=serial0,path=${paths.console},append=on`,
    '-serial',
    'chardev:serial0',
    '-qmp',
    `unix:${paths.qmp},server=on,wait=off`,
    '-drive',
    `file=${paths.disk},if=virtio,format=qcow2,discard=unmap`,
    // Entropy for the guest's SSH host keys without waiting on its own pool.
    '-device',
    'virtio-rng-pci',
  ];
  if (spec.configDrive) argv.push('-drive', `file=${spec.configDrive},if=virtio,format=raw,readonly=on`);
  if (!spec.nics.length) argv.push('-nic', 'none');
  spec.nics.forEach((nic, i) => {
    argv.push('-netdev', `tap,id=net${i},ifname=${nic.tap},script=no,downscript=no`);
    argv.push('-device', `virtio-net-pci,netdev=net${i},mac=${nic.mac},romfile=${nic.mtu ? `,host_mtu=${nic.mtu}` : ''}`);
  });
  argv.push('-daemonize', '-pidfile', paths.pidfile);
  // qemu opens the taps where it runs: in the namespace that holds them.
  const netns = spec.nics.find((n) => n.netns)?.netns;
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}
