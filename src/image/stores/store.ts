import type { Readable } from 'node:stream';

/**
 * Where image bytes are kept, by image id. Every method is safe to call again after a crash or a
 * failure, and a failed write leaves nothing behind.
 */
export interface ImageStore {
  /** Identifies this store instance across restarts, so that it can tell which interrupted
   * uploads were its own. */
  readonly id: string;
  /** Starts writing the bytes of an image; nothing is visible under the id until commit(). */
  create(imageId: string, upload?: UploadInfo): Promise<StoreWriter>;
  /** The bytes of an image, whole or from start to end inclusive; fails at once if they are gone. */
  read(imageId: string, range?: { start: number; end: number }): Promise<Readable>;
  /** The file that holds an image's committed bytes, for readers that must seek (qemu-img), when
   * the store keeps them in a local file; it may be removed by a delete at any time after. */
  localFile?(imageId: string): string;
  /** Where the store keeps an image's committed bytes, as Glance shows it in `direct_url` (e.g.
   * rbd://fsid/pool/image/snap), when the store has such an address. */
  location?(imageId: string): string | undefined;
  /** Removes an image's bytes; removing bytes that are not there is no error. */
  delete(imageId: string): Promise<void>;
  /** The ids of every image whose bytes are committed. */
  list(): Promise<string[]>;
  /** Removes the leftovers of writes that never committed (a crash mid-upload). */
  sweep(): Promise<void>;
}

export interface StoreWriter {
  /** Writes at a position; writes may overlap in time but never in range. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Makes the bytes durable, then visible under the image id, atomically. A store that keeps
   * them in another form than they came says what it keeps. */
  commit(): Promise<Stored | void>;
  /** Drops whatever was written; harmless after commit() failed or abort() ran. */
  abort(): Promise<void>;
}

/** What a store may want to know of an upload before its bytes come. */
export interface UploadInfo {
  /** The image's declared disk format. */
  diskFormat?: string;
  /** Bytes the project's quota leaves for this image's data. */
  room?: number;
}

/** The bytes a store kept when they are not the ones uploaded (a qcow2 stored raw): the image
 * record then describes these. */
export interface Stored {
  diskFormat: string;
  size: number;
  virtualSize?: number;
  /** Hex digests: md5 (Glance's checksum) and sha512 (os_hash_value). */
  digests: { md5: string; sha512: string };
}
