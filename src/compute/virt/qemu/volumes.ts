import { monitorAddress } from '../../../lib/ceph/auth.ts';
import { pskCreds } from '../../../lib/host/tls-psk.ts';
import type { GuestVolume, NbdConnection, RbdConnection } from '../driver.ts';

// How a volume appears in qemu, the same at start (-blockdev/-device) and in a hot-plug
// (blockdev-add/device_add): one block node and one virtio-blk device per volume, both named
// after the volume so that a later call (or a restarted Nubo) finds them again.

/** qemu's node names are at most 31 characters: "v" and 27 hex digits of the volume id. */
export const nodeNameOf = (volumeId: string) => `v${volumeId.replaceAll('-', '').slice(0, 27)}`;

export const deviceIdOf = (volumeId: string) => `vol-${volumeId}`;

/** The volume id named by a device id, or undefined for another device. */
export const volumeOfDevice = (deviceId: string) => (deviceId.startsWith('vol-') ? deviceId.slice(4) : undefined);

/** virtio-blk serials hold 20 bytes: Nova sets the volume id cut there, and guests' udev names
 * the disk /dev/disk/by-id/virtio-<serial>. */
export const serialOf = (volumeId: string) => volumeId.slice(0, 20);

/** The id of the secret object that holds the cephx key of a block node. */
export const secretIdOf = (nodeName: string) => `key-${nodeName}`;

/** qemu's rbd protocol node: monitors as servers, the key by the id of a secret object that the
 * caller creates first (-object secret or object-add), so that it never shows in `ps`. */
export function rbdFileOf(c: RbdConnection, nodeName: string): Record<string, unknown> {
  const server = c.monitors?.map(monitorAddress);
  return {
    driver: 'rbd',
    pool: c.pool,
    image: c.image,
    ...(server?.length ? { server } : {}),
    ...(c.user ? { user: c.user } : {}),
    ...(c.conf ? { conf: c.conf } : {}),
    ...(c.key ? { 'key-secret': secretIdOf(nodeName) } : {}),
  };
}

/** The id of the TLS credentials object an NBD volume's node connects with. */
export const tlsIdOf = (nodeName: string) => `tls-${nodeName}`;

/** The TLS credentials object of an NBD volume, as object-add takes it. */
export const tlsCredsOf = (c: NbdConnection, nodeName: string) => pskCreds(tlsIdOf(nodeName), 'client', c.tls.dir, c.tls.user);

/** qemu's nbd protocol node. A connection lost (the export restarted, the network down a while)
 * is made again, the guest's requests waiting meanwhile, instead of failing at once. */
const nbdFileOf = (c: NbdConnection, nodeName: string) => ({
  driver: 'nbd',
  server: { type: 'inet', host: c.host, port: String(c.port) },
  export: c.export,
  'tls-creds': tlsIdOf(nodeName),
  'reconnect-delay': 30,
});

/** The blockdev-add description of a volume (qemu's BlockdevOptions). */
export function blockdevOf(v: GuestVolume): Record<string, unknown> {
  const c = v.connection;
  const node = nodeNameOf(v.volumeId);
  const file = c.driver === 'rbd' ? rbdFileOf(c, node) : c.driver === 'nbd' ? nbdFileOf(c, node) : { driver: 'file', filename: c.path };
  return {
    'node-name': node,
    driver: c.driver === 'rbd' || c.driver === 'nbd' ? 'raw' : c.driver,
    'read-only': v.readOnly ?? false,
    discard: 'unmap',
    file,
  };
}

/** The device_add properties of a volume; bootIndex 0 for the disk a guest boots from. */
export function deviceOf(v: GuestVolume, bootIndex?: number): Record<string, string | number | boolean> {
  return {
    driver: 'virtio-blk-pci',
    id: deviceIdOf(v.volumeId),
    drive: nodeNameOf(v.volumeId),
    serial: serialOf(v.volumeId),
    ...(v.shareable ? { 'share-rw': true } : {}),
    ...(bootIndex === undefined ? {} : { bootindex: bootIndex }),
  };
}

/** The same device as a -device option value. Ids and node names hold no commas. */
export const deviceArg = (props: Record<string, string | number | boolean>) =>
  Object.entries(props)
    .map(([k, v]) => (k === 'driver' ? String(v) : `${k}=${v}`))
    .join(',');
