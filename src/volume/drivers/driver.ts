import type { Readable } from 'node:stream';
import { monitorAddress } from '../../lib/ceph/auth.ts';

/**
 * What QEMU needs to open a volume: the `file` (or `driver`) part of a QMP blockdev-add, read by the
 * compute side, which adds its own node-name, cache and read-only flags on top.
 */
export type VolumeConnection =
  | { driver: 'file'; filename: string; format: 'raw' | 'qcow2' }
  | { driver: 'rbd'; pool: string; image: string; monitors: string[]; user: string; key: string; format: 'raw' };

/** Image bytes a volume is made from: a local file in one of qemu-img's formats. */
export interface ImageSource {
  path: string;
  /** qemu-img's name of the format: raw, qcow2, vmdk, vdi, vhdx, … */
  format: string;
}

/** An image by its id in the image service: qemu-img's name of its format and its virtual size
 * in bytes (a raw image's size). */
export interface ImageRef {
  id: string;
  format: string;
  virtualSize: number;
}

/** What a backend can do, as data the service reads instead of asking by name. */
export interface DriverCapabilities {
  /** Copy-on-write clones: a clone from a snapshot or volume costs no copy. */
  thinClones: boolean;
  /** Extending a volume a running guest has open is safe. */
  onlineExtend: boolean;
}

/**
 * A block storage backend. Volumes and snapshots are named by their ids; sizes are bytes (the
 * service passes GiB × 2³⁰). Every method is idempotent and safe to call again after a crash:
 * creating what already exists keeps it, deleting what is gone is no error, and a failed create
 * leaves nothing behind. New volumes read zeros everywhere; the bytes of a deleted volume or
 * snapshot are never readable through any volume made later.
 */
export interface VolumeDriver {
  /** The backend's name as volumes record it (file, rbd). */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** The driver's location string for a volume (path, pool/image), recorded as provider_location. */
  location(volumeId: string): string;

  createBlank(volumeId: string, size: number): Promise<void>;
  /** Converts the image into the volume (raw) and grows it to size; an image whose virtual size
   * is larger than size fails with ImageTooLargeError. */
  createFromImage(volumeId: string, image: ImageSource, size: number): Promise<void>;
  /** Makes the volume a copy-on-write clone of an image whose bytes the image service keeps in
   * the same cluster, grown to size; false (and nothing made) when this backend cannot clone that
   * image, and the caller converts it with createFromImage instead. Absent: never. */
  cloneImage?(volumeId: string, image: ImageRef, size: number): Promise<boolean>;
  /** The snapshot's bytes, grown to size (never smaller than the snapshot). */
  cloneFromSnapshot(volumeId: string, snapshotId: string, size: number): Promise<void>;
  /** A copy of another volume's current bytes, grown to size. */
  cloneFromVolume(volumeId: string, sourceId: string, size: number): Promise<void>;
  /** Grows a volume to size; never shrinks. */
  extend(volumeId: string, size: number): Promise<void>;
  delete(volumeId: string): Promise<void>;
  /** The size in bytes of a volume, or undefined if the backend does not hold it. */
  size(volumeId: string): Promise<number | undefined>;

  /** A point-in-time copy of a volume (crash-consistent if a guest writes meanwhile). */
  createSnapshot(snapshotId: string, volumeId: string): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;

  /** A volume's bytes from the start, for uploads to the image service and for tests. */
  read(volumeId: string): Promise<Readable>;
  /** How QEMU opens the volume. */
  connection(volumeId: string): VolumeConnection;

  /** Every volume and snapshot id the backend holds, to find orphans after a crash. */
  list(): Promise<{ volumes: string[]; snapshots: string[] }>;
  /** Removes the leftovers of operations a crash interrupted (temporary names). */
  sweep(): Promise<void>;
  /** Fails at once (CephUnavailableError, a 503) when the backend cannot be reached, so that the
   * API refuses work it could not start rather than recording it. Absent: always reachable. */
  probe?(): Promise<void>;
}

/** The image's virtual size is larger than the volume asked for. */
export class ImageTooLargeError extends Error {
  constructor(
    readonly imageSize: number,
    readonly volumeSize: number,
  ) {
    super(`the image's virtual size (${imageSize} bytes) is larger than the volume (${volumeSize} bytes)`);
  }
}

/** The source (snapshot or volume) is not on the backend. */
export class SourceMissingError extends Error {}

/**
 * The blockdev-add options (format node over protocol node) that open a connection, without a
 * node-name. An rbd key is passed to QEMU as a secret object the caller creates first; its id is
 * keySecretId.
 */
export function blockdevOptions(conn: VolumeConnection, keySecretId?: string): Record<string, unknown> {
  if (conn.driver === 'file') return { driver: conn.format, file: { driver: 'file', filename: conn.filename } };
  const server = conn.monitors.map(monitorAddress);
  return {
    driver: 'raw',
    file: { driver: 'rbd', pool: conn.pool, image: conn.image, server, user: conn.user, ...(keySecretId ? { 'key-secret': keySecretId } : {}) },
  };
}
