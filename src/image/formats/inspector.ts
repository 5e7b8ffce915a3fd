/** Formats an inspector can recognise in a file's bytes. */
export type DetectedFormat = 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso' | 'qed' | 'luks';

/** A request for bytes of the file being inspected: a range counted from the start, or the
 * file's last bytes (answered once the whole file has been seen). */
export type Read = { offset: number; length: number } | { tail: number };

export const read = (offset: number, length: number): Read => ({ offset, length });
export const tail = (length: number): Read => ({ tail: length });

/** What an inspector found in a file of its format. */
export interface Detection {
  format: DetectedFormat;
  /** The size of the disk the guest sees, from the header; undefined when the format has none. */
  virtualSize?: number;
  /** Set when the file must be refused whatever was declared, and why: a backing file, an
   * extent in another file, a header that cannot be checked… */
  unsafe?: string;
}

/**
 * An inspector reads the parts of the file it needs by yielding requests, which are answered as
 * the upload streams past them (a range shorter than asked means the file ended), and returns a
 * detection, or undefined when the file is not in its format. Reads must move forward through the
 * file, except within the first HEAD_BYTES, which stay available.
 */
export type Inspector = () => Generator<Read, Detection | undefined, Buffer>;

/** The leading bytes kept for every inspector to read at any time. */
export const HEAD_BYTES = 64 * 1024;

/** The largest single read an inspector may ask for, so that inspection stays small in memory. */
export const MAX_READ = 1024 * 1024;

/** A 64-bit field as a number, or undefined when it is too large to be a real size or offset. */
export function u64(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** The 16 bytes of a GUID as Microsoft formats store them: the first three fields little-endian. */
export function guid(text: string): Buffer {
  const hex = text.replaceAll('-', '');
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([b.subarray(0, 4).reverse(), b.subarray(4, 6).reverse(), b.subarray(6, 8).reverse(), b.subarray(8)]);
}
