import { read, u64, type Inspector } from './inspector.ts';

const SIGNATURE = 0xbeda107f;
/** Image types 3 (undo) and 4 (differencing) depend on a parent image. */
const WITH_PARENT = new Set([3, 4]);

/** VirtualBox's format; version 1.1 headers carry the disk size at 0x170. */
export const vdi: Inspector = function* () {
  const h = yield read(0, 0x180);
  if (h.length < 0x50 || h.readUInt32LE(0x40) !== SIGNATURE) return undefined;
  if (WITH_PARENT.has(h.readUInt32LE(0x4c))) return { format: 'vdi', unsafe: 'the VDI image depends on a parent image' };
  const virtualSize = h.length >= 0x178 ? u64(h.readBigUInt64LE(0x170)) : undefined;
  return virtualSize === undefined ? { format: 'vdi', unsafe: 'the VDI header is not a version 1.1 header' } : { format: 'vdi', virtualSize };
};
