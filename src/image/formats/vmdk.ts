import { MAX_READ, read, u64, type Detection, type Inspector } from './inspector.ts';

const SPARSE_MAGIC = 0x564d444b; // "KDMV", little-endian
const SECTOR = 512;
/** The only layouts that keep the whole disk in the one uploaded file. */
const SINGLE_FILE_TYPES = new Set(['monolithicSparse', 'streamOptimized']);

/**
 * VMware's format. A VMDK's text descriptor lists extents that may be other files of the host
 * (OSSA-2024-001), and a delta disk names a parent: only single-file sparse images whose one
 * extent is the file itself are accepted.
 */
export const vmdk: Inspector = function* () {
  const h = yield read(0, 512);
  if (h.subarray(0, 21).toString('latin1') === '# Disk DescriptorFile') {
    return { format: 'vmdk', unsafe: 'the VMDK is a bare descriptor whose extents are other files' };
  }
  if (h.length < 4 || h.readUInt32LE(0) !== SPARSE_MAGIC) return undefined;
  const refuse = (why: string): Detection => ({ format: 'vmdk', unsafe: why });
  if (h.length < 44) return refuse('the VMDK header is truncated');
  const capacity = u64(h.readBigUInt64LE(12));
  const descriptorAt = u64(h.readBigUInt64LE(28));
  const descriptorSectors = u64(h.readBigUInt64LE(36));
  if (capacity === undefined || capacity > Number.MAX_SAFE_INTEGER / SECTOR) return refuse('the VMDK header declares an impossible disk size');
  if (!descriptorAt || !descriptorSectors) return refuse('the VMDK has no embedded descriptor');
  if (descriptorSectors * SECTOR > MAX_READ || descriptorAt > Number.MAX_SAFE_INTEGER / SECTOR) return refuse('the VMDK descriptor is too large to inspect');
  const text = (yield read(descriptorAt * SECTOR, descriptorSectors * SECTOR)).toString('latin1');
  const problem = descriptorProblem(text.slice(0, text.includes('\0') ? text.indexOf('\0') : undefined));
  return problem ? refuse(problem) : { format: 'vmdk', virtualSize: capacity * SECTOR };
};

const EXTENT = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\S+)(?:\s+"([^"]*)")?(?:\s+(\d+))?$/;

/** Why a descriptor refers to data outside the file, or undefined when it does not. */
function descriptorProblem(text: string): string | undefined {
  let createType: string | undefined;
  const extents: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const setting = /^([A-Za-z0-9_.]+)\s*=\s*"?([^"]*)"?$/.exec(line);
    if (setting) {
      if (setting[1] === 'createType') createType = setting[2];
      if (setting[1] === 'parentFileNameHint') return 'the VMDK is a delta disk that names a parent file';
      continue;
    }
    const extent = EXTENT.exec(line);
    if (!extent) return `the VMDK descriptor has a line that cannot be read: ${JSON.stringify(line.slice(0, 80))}`;
    extents.push(extent[3]!);
  }
  if (!createType || !SINGLE_FILE_TYPES.has(createType)) return `VMDK create type ${createType ?? '(none)'} keeps data outside the image file`;
  if (extents.length !== 1 || extents[0] !== 'SPARSE') return `the VMDK descriptor lists extents (${extents.join(', ') || 'none'}) other than the file itself`;
  return undefined;
}
