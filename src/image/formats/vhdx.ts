import { MAX_READ, guid, read, u64, type Detection, type Inspector } from './inspector.ts';

const REGION_TABLE = 192 * 1024;
const METADATA_REGION = guid('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const FILE_PARAMETERS = guid('CAA16737-FA36-4D43-B3B6-33F0AA44E76B');
const VIRTUAL_DISK_SIZE = guid('2FA54224-CD1B-4876-B211-5DBED83BF4B8');
const PARENT_LOCATOR = guid('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C');
const HAS_PARENT = 0b10;

/** Hyper-V's format: its size and whether it has a parent live in the metadata region, which
 * the region table (192 KiB into the file) locates. */
export const vhdx: Inspector = function* () {
  const sig = yield read(0, 8);
  if (sig.toString('latin1') !== 'vhdxfile') return undefined;
  const refuse = (why: string): Detection => ({ format: 'vhdx', unsafe: why });
  const table = yield read(REGION_TABLE, 16);
  if (table.length < 16 || table.toString('latin1', 0, 4) !== 'regi') return refuse('the VHDX region table is missing');
  const count = table.readUInt32LE(8);
  if (count > 2047) return refuse('the VHDX region table is invalid');
  const entries = yield read(REGION_TABLE + 16, count * 32);
  let region: { offset: number; length: number } | undefined;
  for (let at = 0; at + 32 <= entries.length; at += 32) {
    if (entries.subarray(at, at + 16).equals(METADATA_REGION)) {
      region = { offset: u64(entries.readBigUInt64LE(at + 16)) ?? -1, length: entries.readUInt32LE(at + 24) };
    }
  }
  if (!region || region.offset < REGION_TABLE + 16 + count * 32) return refuse('the VHDX metadata region is missing or misplaced');
  const meta = yield read(region.offset, Math.min(region.length, MAX_READ));
  if (meta.length < 32 || meta.toString('latin1', 0, 8) !== 'metadata') return refuse('the VHDX metadata table is missing');
  const items = new Map<string, Buffer>();
  for (let i = 0, at = 32; i < meta.readUInt16LE(10) && at + 32 <= meta.length; i++, at += 32) {
    const offset = meta.readUInt32LE(at + 16);
    const length = meta.readUInt32LE(at + 20);
    if (offset + length > meta.length) return refuse('a VHDX metadata item lies outside the inspected region');
    items.set(meta.toString('hex', at, at + 16), meta.subarray(offset, offset + length));
  }
  const params = items.get(FILE_PARAMETERS.toString('hex'));
  const size = items.get(VIRTUAL_DISK_SIZE.toString('hex'));
  if (items.has(PARENT_LOCATOR.toString('hex')) || (params && params.length >= 8 && params.readUInt32LE(4) & HAS_PARENT)) {
    return refuse('the VHDX is a differencing disk that names a parent file');
  }
  const virtualSize = size && size.length >= 8 ? u64(size.readBigUInt64LE(0)) : undefined;
  return virtualSize === undefined ? refuse('the VHDX virtual disk size is missing') : { format: 'vhdx', virtualSize };
};
