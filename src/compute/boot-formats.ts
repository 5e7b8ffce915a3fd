import { badRequest } from '../lib/errors.ts';
import { hardwareProblem } from './virt/hardware.ts';

/** The disk formats a server boots from: qcow2 and raw as they are, other hypervisors' formats
 * converted on the host, and an ISO as a CD-ROM beside a blank root disk. */
export const BOOT_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso'];

/** Refuses, before a server is made, an image its host could not boot as asked. */
export function checkBootImage(image: { id: string; diskFormat: string | null; properties: Record<string, string> }, flavor: { disk: number }): void {
  const format = image.diskFormat ?? '';
  if (!BOOT_FORMATS.includes(format)) throw badRequest(`Image ${image.id} has disk format ${format}; servers boot from ${BOOT_FORMATS.join(', ')} images.`);
  const problem = hardwareProblem(image.properties);
  if (problem) throw badRequest(problem);
  if (format === 'iso' && flavor.disk === 0) {
    throw badRequest(`Image ${image.id} is an ISO: it boots beside a blank root disk of the flavor's size, and the flavor's disk is 0.`);
  }
}
