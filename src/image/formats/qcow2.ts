import { read, u64, type Detection, type Inspector } from './inspector.ts';

const MAGIC = 0x514649fb; // "QFI\xfb"
const V3_HEADER = 104;
/** Incompatible feature bits qemu defines: dirty, corrupt, external data file, compression
 * type, extended L2 entries. Any other bit means a file qemu itself would not open. */
const KNOWN_INCOMPATIBLE = 0b11111n;
const EXTERNAL_DATA_FILE = 0b100n;

/** QEMU's copy-on-write format. A backing file or an external data file makes qemu read another
 * file of the host on the guest's behalf, so both are refused. */
export const qcow2: Inspector = function* () {
  const h = yield read(0, V3_HEADER);
  if (h.length < 4 || h.readUInt32BE(0) !== MAGIC) return undefined;
  const refuse = (why: string): Detection => ({ format: 'qcow2', unsafe: why });
  if (h.length < 72) return refuse('the qcow2 header is truncated');
  const version = h.readUInt32BE(4);
  if (version !== 2 && version !== 3) return refuse(`qcow2 version ${version} is not supported`);
  const virtualSize = u64(h.readBigUInt64BE(24));
  if (virtualSize === undefined) return refuse('the qcow2 header declares an impossible disk size');
  if (h.readBigUInt64BE(8) !== 0n || h.readUInt32BE(16) !== 0) return refuse('the qcow2 image names a backing file');
  const clusterBits = h.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) return refuse(`the qcow2 cluster size 2^${clusterBits} is invalid`);
  if (version === 3) {
    if (h.length < V3_HEADER) return refuse('the qcow2 header is truncated');
    const incompatible = h.readBigUInt64BE(72);
    if (incompatible & EXTERNAL_DATA_FILE) return refuse('the qcow2 image keeps its data in an external file');
    if (incompatible & ~KNOWN_INCOMPATIBLE) return refuse('the qcow2 image uses unknown incompatible features');
  }
  return { format: 'qcow2', virtualSize };
};
