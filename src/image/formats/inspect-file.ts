import { createReadStream } from 'node:fs';
import { FormatSniffer } from './sniff.ts';

/**
 * The checks an upload passes, run again over a file that holds an image's data: a host that
 * hands the file to qemu-img checks it itself, whatever the image service was set to skip. Throws
 * the image service's BadRequest when the data is not a safe disk of the declared format.
 */
export async function inspectImageFile(path: string, declared: string): Promise<{ virtualSize?: number }> {
  const sniffer = new FormatSniffer({ declared, strict: true });
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) sniffer.push(chunk as Buffer);
  return sniffer.finish();
}
