import { open, rename, rm } from 'node:fs/promises';
import { inspectImageFile } from '../../image/for-compute.ts';
import { ApiError } from '../../lib/errors.ts';
import { run } from '../../lib/host/run.ts';
import { TerminalError } from '../../lib/reconcile/controller.ts';

// Images in the formats of other hypervisors (VMDK, VHD, VHDX, VDI) are converted on the host to a
// qcow2 that the guests' overlays sit on, as Nova converts them to raw. qemu-img opens whatever
// files an image names (a backing file, a data file, a VMDK extent), so an image is checked before
// it is converted, twice: by the image service's own inspector over its bytes, then by what
// qemu-img info reports of it (run with bounded memory and CPU time, as Nova runs it).

/** qemu-img's name of each disk_format a host converts. */
const QEMU_FORMAT: Record<string, string> = { vmdk: 'vmdk', vhd: 'vpc', vhdx: 'vhdx', vdi: 'vdi' };

export const isConverted = (diskFormat: string) => Object.hasOwn(QEMU_FORMAT, diskFormat);

interface QemuImgInfo {
  'backing-filename'?: string;
  'format-specific'?: { data?: { 'data-file'?: string; extents?: { filename: string }[] } };
}

/** Why qemu-img's description of the file at `path` shows it reading another file, if it does. */
export function infoProblem(info: QemuImgInfo, path: string): string | undefined {
  if (info['backing-filename']) return `it names a backing file (${info['backing-filename']})`;
  const data = info['format-specific']?.data;
  if (data?.['data-file']) return `it names a data file (${data['data-file']})`;
  const other = data?.extents?.find((e) => e.filename !== path);
  if (other) return `it has an extent in another file (${other.filename})`;
  return undefined;
}

/** Converts the image's file to a standalone qcow2 at target, which appears only whole. A file that
 * is refused is a TerminalError: the server's build fails with why, and is not tried again. */
export async function convertToQcow2(imageId: string, source: string, diskFormat: string, target: string): Promise<void> {
  const format = QEMU_FORMAT[diskFormat];
  if (!format) throw new Error(`disk_format ${diskFormat} is not converted`);
  const refuse = (why: string) => new TerminalError(`Image ${imageId} cannot be converted from ${diskFormat}: ${why}`);
  await inspectImageFile(source, diskFormat).catch((err: unknown) => {
    throw err instanceof ApiError ? refuse(err.message) : err;
  });
  const limits = ['prlimit', `--as=${2 ** 30}`, '--cpu=30', '--'];
  const info = JSON.parse((await run([...limits, 'qemu-img', 'info', '--output=json', '-f', format, source])).stdout) as QemuImgInfo;
  const problem = infoProblem(info, source);
  if (problem) throw refuse(problem);
  const tmp = `${target}.part`;
  try {
    await run(['qemu-img', 'convert', '-q', '-f', format, '-O', 'qcow2', source, tmp], { timeoutMs: 3_600_000 });
    const fd = await open(tmp, 'r');
    await fd.sync().finally(() => fd.close());
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}
