import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A volume's NBD export as a host opens it: its key file's directory (the agent's
 * <data dir>/compute/volume-tls) and its name as the key's user. */
export interface NbdClient {
  dataDir: string;
  host: string;
  address: string;
  port: number;
  volumeId: string;
}

const argsOf = (c: NbdClient) => [
  '--object',
  `tls-creds-psk,id=tls0,endpoint=client,dir=${join(c.dataDir, 'compute', 'volume-tls')},username=${c.host}`,
  '--image-opts',
  `driver=nbd,server.type=inet,server.host=${c.address},server.port=${c.port},export=${c.volumeId},tls-creds=tls0`,
];

/** Whether the host's key opens the export (qemu-img over TLS, as the host's qemu connects). */
export async function nbdOpens(c: NbdClient): Promise<boolean> {
  return (await run('qemu-img', ['info', ...argsOf(c)]).catch(() => undefined)) !== undefined;
}

/** Writes 64 KiB of the byte `pattern` at offset through the export, with the host's key. */
export async function nbdWrite(c: NbdClient, pattern: number, offset: number): Promise<void> {
  await run('qemu-io', [...argsOf(c), '-c', `write -P ${pattern} ${offset} 64k`]);
}
