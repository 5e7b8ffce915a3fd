import { readFile, rename, rm } from 'node:fs/promises';
import { run } from '../../../lib/host/run.ts';
import type { Logger } from '../../../lib/log.ts';
import type { MigrationTarget } from '../driver.ts';
import { objectArg } from '../../../lib/host/tls-psk.ts';
import { migrationCreds } from './migration-tls.ts';

// A cold migration's root disk between hosts that share no file system: the source's qemu-nbd
// serves the stopped guest's disk read-only as the guest sees it (its overlay read through its
// image), at the source's address; the destination's qemu-img copies it from there into a
// standalone qcow2, skipping what reads as zeros. Both run in the network namespace of the host's
// addresses, as the guests' qemu does. The server ends once its one client has read and gone.
// Both ends use TLS with the migration's key (in tlsDir): nothing else may read or forge the disk.

export async function serveDisk(disk: string, at: MigrationTarget, pidFile: string, tlsDir: string, netns: string | undefined, log: Logger): Promise<void> {
  await stopServing(pidFile);
  const argv = ['qemu-nbd', '--read-only', '--format=qcow2', `--bind=${at.host}`, `--port=${at.port}`, '--export-name=disk', '--shared=1'];
  argv.push('--object', objectArg(migrationCreds('tls0', 'server', tlsDir)), '--tls-creds=tls0');
  await run([...argv, '--fork', `--pid-file=${pidFile}`, disk], { log, netns, timeoutMs: 30_000 });
}

/** Ends the server a serveDisk started, if it still runs. */
export async function stopServing(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  // The pidfile may outlive its process and name a recycled pid.
  if (pid > 0 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).startsWith('qemu-nbd\0')) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  await rm(pidFile, { force: true });
}

/** Copies the disk served at `from` into `disk`, which appears only once whole. */
export async function fetchDisk(from: MigrationTarget, disk: string, tlsDir: string, netns: string | undefined, log: Logger): Promise<void> {
  const part = `${disk}.part`;
  await rm(part, { force: true });
  const source = `driver=raw,file.driver=nbd,file.server.type=inet,file.server.host=${from.host},file.server.port=${from.port},file.export=disk,file.tls-creds=tls0`;
  try {
    await run(['qemu-img', 'convert', '--object', objectArg(migrationCreds('tls0', 'client', tlsDir)), '--image-opts', source, '-O', 'qcow2', part], {
      log,
      netns,
      timeoutMs: 3_600_000,
    });
    await rename(part, disk);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}
