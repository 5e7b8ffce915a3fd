import { read, type Inspector } from './inspector.ts';

/** ISO 9660 volumes begin their descriptors at sector 16 (32 KiB), each tagged "CD001"; UDF
 * media mark the same place with "BEA01". */
const DESCRIPTORS = 16 * 2048;
const PRIMARY = 1;

export const iso: Inspector = function* () {
  const d = yield read(DESCRIPTORS, 2048);
  const id = d.toString('latin1', 1, 6);
  if (id === 'BEA01') return { format: 'iso' };
  if (id !== 'CD001') return undefined;
  if (d[0] !== PRIMARY || d.length < 130) return { format: 'iso' };
  // Both fields are stored twice, little- then big-endian.
  return { format: 'iso', virtualSize: d.readUInt32LE(80) * d.readUInt16LE(128) };
};
