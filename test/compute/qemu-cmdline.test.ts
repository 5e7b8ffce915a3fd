import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestSpec } from '../../src/compute/virt/driver.ts';
import { qemuArgv, type GuestPaths } from '../../src/compute/virt/qemu/cmdline.ts';

const uuid = '6f1c2a9e-4b7d-4e21-9c0a-2d5e8f3b7a10';
const dir = `/var/lib/nubo/compute/instances/${uuid}`;
const paths: GuestPaths = {
  disk: `${dir}/disk`,
  console: `${dir}/console.log`,
  qmp: `${dir}/qmp.sock`,
  serial: `${dir}/serial.sock`,
  vnc: `${dir}/vnc.sock`,
  pidfile: `${dir}/qemu.pid`,
};
const spec: GuestSpec = {
  uuid,
  name: 'web 1',
  vcpus: 2,
  memoryMiB: 512,
  rootGiB: 1,
  image: { id: 'img', path: '/images/img', format: 'qcow2' },
  nics: [],
};

/** The values that follow each occurrence of flag. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
/** A local root disk's node, as qemu's -blockdev takes it in JSON. */
const rootNode = (file: string) => JSON.stringify({ 'node-name': 'root', driver: 'qcow2', discard: 'unmap', file: { driver: 'file', filename: file, discard: 'unmap' } });

test('a guest without NICs under TCG: the whole command line', () => {
  assert.deepEqual(qemuArgv(spec, paths, 'tcg'), [
    'qemu-system-x86_64',
    ...['-name', 'web_1,debug-threads=on', '-uuid', uuid, '-machine', 'pc', '-accel', 'tcg,tb-size=32', '-m', '512', '-smp', '2'],
    ...['-smbios', `type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,family=Virtual Machine,serial=${uuid},uuid=${uuid}`],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-vnc', `unix:${dir}/vnc.sock`],
    ...['-chardev', `socket,id=serial0,path=${dir}/serial.sock,server=on,wait=off,logfile=${dir}/console.log,logappend=on`, '-serial', 'chardev:serial0'],
    ...['-qmp', `unix:${dir}/qmp.sock,server=on,wait=off`],
    ...[
      '-blockdev',
      rootNode(`${dir}/disk`),
      '-device',
      'virtio-blk-pci,drive=root,bootindex=0',
      '-device',
      'virtio-rng-pci',
      '-device',
      'VGA',
    ],
    ...['-nic', 'none', '-daemonize', '-pidfile', `${dir}/qemu.pid`],
  ]);
});

test('KVM passes the host CPU through; TCG has no -cpu and a bounded translation cache', () => {
  const kvm = qemuArgv(spec, paths, 'kvm');
  assert.deepEqual(valuesOf(kvm, '-accel'), ['kvm']);
  assert.deepEqual(valuesOf(kvm, '-cpu'), ['host']);
  const tcg = qemuArgv(spec, paths, 'tcg');
  assert.deepEqual(valuesOf(tcg, '-accel'), ['tcg,tb-size=32']);
  assert.deepEqual(valuesOf(tcg, '-cpu'), []);
});

test('NICs in a network namespace: qemu starts inside it, one tap netdev and virtio-net device per NIC, in order', () => {
  const argv = qemuArgv(
    {
      ...spec,
      nics: [
        { mac: 'fa:16:3e:00:00:01', tap: 'tap0a1b2c3d-4e', netns: 'qdhcp-1', mtu: 1450 },
        { mac: 'fa:16:3e:00:00:02', tap: 'tap5f6a7b8c-9d', netns: 'qdhcp-1' },
      ],
    },
    paths,
    'tcg',
  );
  assert.deepEqual(argv.slice(0, 5), ['ip', 'netns', 'exec', 'qdhcp-1', 'qemu-system-x86_64']);
  assert.deepEqual(valuesOf(argv, '-netdev'), [
    'tap,id=net0,ifname=tap0a1b2c3d-4e,script=no,downscript=no',
    'tap,id=net1,ifname=tap5f6a7b8c-9d,script=no,downscript=no',
  ]);
  assert.deepEqual(
    valuesOf(argv, '-device').filter((d) => d!.startsWith('virtio-net-pci')),
    ['virtio-net-pci,netdev=net0,mac=fa:16:3e:00:00:01,romfile=,host_mtu=1450', 'virtio-net-pci,netdev=net1,mac=fa:16:3e:00:00:02,romfile='],
  );
  assert.ok(!argv.includes('-nic'));
});

test("NICs in the host's namespace start qemu directly; NICs split over namespaces are refused", () => {
  const host = qemuArgv({ ...spec, nics: [{ mac: 'fa:16:3e:00:00:01', tap: 'tap1' }] }, paths, 'tcg');
  assert.equal(host[0], 'qemu-system-x86_64');
  assert.throws(
    () =>
      qemuArgv(
        {
          ...spec,
          nics: [
            { mac: 'fa:16:3e:00:00:01', tap: 'tap1', netns: 'a' },
            { mac: 'fa:16:3e:00:00:02', tap: 'tap2', netns: 'b' },
          ],
        },
        paths,
        'tcg',
      ),
    /different network namespaces/,
  );
});

test('a config drive is a read-only raw disk after the root disk', () => {
  const argv = qemuArgv({ ...spec, configDrive: '/var/lib/nubo/compute/config-drives/x.iso' }, paths, 'tcg');
  assert.deepEqual(valuesOf(argv, '-blockdev'), [rootNode(`${dir}/disk`)]);
  assert.deepEqual(valuesOf(argv, '-drive'), ['file=/var/lib/nubo/compute/config-drives/x.iso,if=virtio,format=raw,readonly=on']);
  assert.ok(argv.indexOf('-blockdev') < argv.indexOf('-drive'));
});

const vol = (id: string, path: string) => ({ volumeId: id, connection: { driver: 'raw' as const, path } });

test('attached volumes: one -blockdev node and one virtio-blk device each, in attach order, serial = the first 20 characters of the id', () => {
  const a = '0b5e8a36-7c1d-4f2e-9a3b-5c6d7e8f9a0b';
  const b = '9f8e7d6c-5b4a-4321-8fed-cba987654321';
  const argv = qemuArgv({ ...spec, volumes: [vol(a, '/v/a,1'), { ...vol(b, '/v/b'), readOnly: true }] }, paths, 'tcg');
  assert.deepEqual(
    valuesOf(argv, '-blockdev')
      .slice(1)
      .map((j) => JSON.parse(j!)),
    [
      { 'node-name': 'v0b5e8a367c1d4f2e9a3b5c6d7e8', driver: 'raw', 'read-only': false, discard: 'unmap', file: { driver: 'file', filename: '/v/a,1' } },
      { 'node-name': 'v9f8e7d6c5b4a43218fedcba9876', driver: 'raw', 'read-only': true, discard: 'unmap', file: { driver: 'file', filename: '/v/b' } },
    ],
  );
  assert.deepEqual(valuesOf(argv, '-device').slice(-2), [
    `virtio-blk-pci,id=vol-${a},drive=v0b5e8a367c1d4f2e9a3b5c6d7e8,serial=0b5e8a36-7c1d-4f2e-9`,
    `virtio-blk-pci,id=vol-${b},drive=v9f8e7d6c5b4a43218fedcba9876,serial=9f8e7d6c-5b4a-4321-8`,
  ]);
});

test('a guest booted from a volume has no disk of its own: the volume is its boot device', () => {
  const id = '0b5e8a36-7c1d-4f2e-9a3b-5c6d7e8f9a0b';
  const argv = qemuArgv(
    { ...spec, image: undefined, rootVolume: { volumeId: id, connection: { driver: 'rbd', pool: 'volumes', image: `volume-${id}` } } },
    paths,
    'tcg',
  );
  assert.deepEqual(valuesOf(argv, '-drive'), []);
  assert.deepEqual(JSON.parse(valuesOf(argv, '-blockdev')[0]!), {
    'node-name': 'v0b5e8a367c1d4f2e9a3b5c6d7e8',
    driver: 'raw',
    'read-only': false,
    discard: 'unmap',
    file: { driver: 'rbd', pool: 'volumes', image: `volume-${id}` },
  });
  assert.equal(valuesOf(argv, '-device')[0], `virtio-blk-pci,id=vol-${id},drive=v0b5e8a367c1d4f2e9a3b5c6d7e8,serial=0b5e8a36-7c1d-4f2e-9,bootindex=0`);
});

test("a volume another host serves over NBD is opened with TLS: the host's key file named by a credentials object, never the key", () => {
  const id = '0b5e8a36-7c1d-4f2e-9a3b-5c6d7e8f9a0b';
  const connection = { driver: 'nbd' as const, host: '10.0.0.254', port: 40123, export: id, tls: { dir: '/state/volume-tls,x', user: 'host2' } };
  const argv = qemuArgv({ ...spec, volumes: [{ volumeId: id, connection }] }, paths, 'tcg');
  assert.deepEqual(valuesOf(argv, '-object'), ['tls-creds-psk,id=tls-v0b5e8a367c1d4f2e9a3b5c6d7e8,endpoint=client,dir=/state/volume-tls,,x,username=host2']);
  assert.deepEqual(JSON.parse(valuesOf(argv, '-blockdev').at(-1)!), {
    'node-name': 'v0b5e8a367c1d4f2e9a3b5c6d7e8',
    driver: 'raw',
    'read-only': false,
    discard: 'unmap',
    file: {
      driver: 'nbd',
      server: { type: 'inet', host: '10.0.0.254', port: '40123' },
      export: id,
      'tls-creds': 'tls-v0b5e8a367c1d4f2e9a3b5c6d7e8',
      'reconnect-delay': 30,
    },
  });
});

test('commas in paths are escaped as qemu options need (the root disk\'s node is JSON, where a comma is a comma); the name is reduced to safe characters', () => {
  const odd = '/data/a,b';
  const argv = qemuArgv({ ...spec, name: 'x,file=/etc/shadow' }, { disk: `${odd}/disk`, console: `${odd}/c`, qmp: `${odd}/q`, serial: `${odd}/s`, vnc: `${odd}/v`, pidfile: `${odd}/p` }, 'tcg');
  assert.ok(argv.includes(rootNode('/data/a,b/disk')));
  assert.ok(argv.includes('unix:/data/a,,b/q,server=on,wait=off'));
  assert.ok(argv.includes('socket,id=serial0,path=/data/a,,b/s,server=on,wait=off,logfile=/data/a,,b/c,logappend=on'));
  assert.ok(argv.includes('unix:/data/a,,b/v'));
  assert.deepEqual(valuesOf(argv, '-name'), ['x_file__etc_shadow,debug-threads=on']);
  assert.deepEqual(valuesOf(argv, '-pidfile'), ['/data/a,b/p'], 'a plain argument, not an option list');
});
