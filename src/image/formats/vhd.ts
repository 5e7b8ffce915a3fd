import { read, tail, u64, type Detection, type Inspector } from './inspector.ts';

const COOKIE = 'conectix';
const FOOTER = 512;
const DIFFERENCING = 4;

/** Reads a VHD footer (or its copy at the start of a dynamic disk); undefined if it is none. */
function footer(b: Buffer, at: number): Detection | undefined {
  if (b.length < at + 64 || b.toString('latin1', at, at + 8) !== COOKIE) return undefined;
  if (b.readUInt32BE(at + 60) === DIFFERENCING) return { format: 'vhd', unsafe: 'the VHD is a differencing disk that names a parent file' };
  const virtualSize = u64(b.readBigUInt64BE(at + 48));
  return virtualSize === undefined ? { format: 'vhd', unsafe: 'the VHD footer declares an impossible disk size' } : { format: 'vhd', virtualSize };
}

/** Microsoft's Virtual PC format. A dynamic disk starts with a copy of its footer; a fixed one
 * is raw data with the footer in its last sector (511 bytes long in the oldest files), so it is
 * known only once the whole upload has been seen. */
export const vhd: Inspector = function* () {
  const head = footer(yield read(0, FOOTER), 0);
  if (head) return head;
  const end = yield tail(FOOTER);
  return footer(end, 0) ?? footer(end, 1);
};
