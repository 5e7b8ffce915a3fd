import { chmod, mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import type { NetworkData } from '../../network/network-data.ts';
import type { Server } from '../servers.ts';
import { openstackTree } from './content.ts';

/**
 * Writes a server's config drive to target: an ISO 9660 image labelled config-2 (Rock Ridge and
 * Joliet for the long names) holding openstack/latest/, which cloud-init finds by its label.
 * Built in a temporary directory beside target and renamed into place, so it is whole or absent.
 */
export async function writeConfigDrive(s: Server, network: NetworkData, target: string, log?: Logger): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const work = await mkdtemp(`${target}.tmp-`);
  try {
    const latest = join(work, 'tree', 'openstack', 'latest');
    await mkdir(latest, { recursive: true, mode: 0o700 });
    for (const [name, content] of Object.entries(openstackTree(s, network))) await writeFile(join(latest, name), content, { mode: 0o600 });
    const iso = join(work, 'drive.iso');
    await run(['genisoimage', '-o', iso, '-V', 'config-2', '-r', '-J', '-l', '-ldots', '-allow-lowercase', '-allow-multidot', '-quiet', join(work, 'tree')], {
      log,
    });
    // genisoimage makes it by the umask; it holds the user data and keys.
    await chmod(iso, 0o600);
    await rename(iso, target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
