import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ComputeClient, type Server } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { ImageClient } from '../../client/image.ts';
import { connect } from '../context.ts';
import { printShow, showOptions } from '../output.ts';
import { osError } from './compute-columns.ts';
import { imageFields } from './image-format.ts';
import { keyValue } from './image-options.ts';
import { serverFields, waitComplete, waitForStatus } from './server-format.ts';

interface RebuildOptions {
  image?: string;
  name?: string;
  password?: string;
  property?: Record<string, string>;
  description?: string;
  keyName?: string;
  userData?: string;
  wait?: boolean;
}

/** openstackclient's refusal of an option the microversion in use does not have (its wording, and
 * its thresholds: it asks 2.54 for user data, which came with 2.57). */
async function needs(compute: ComputeClient, version: string, what: string): Promise<void> {
  if (!(await compute.atLeast(version))) throw new ClientError(`--os-compute-api-version ${version} or greater is required to support the ${what} option`);
}

/** The rebuild action's body, as novaclient builds it: the image, then only what was given. */
async function rebuildBody(compute: ComputeClient, imageId: string, o: RebuildOptions): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { imageRef: imageId };
  if (o.password !== undefined) body.adminPass = o.password;
  if (o.name !== undefined) body.name = o.name;
  if (o.property) body.metadata = o.property;
  if (o.description) {
    await needs(compute, '2.19', '--description');
    body.description = o.description;
  }
  if (o.keyName) {
    await needs(compute, '2.54', '--key-name');
    body.key_name = o.keyName;
  }
  if (o.userData) {
    await needs(compute, '2.54', '--user-data');
    let data: Buffer;
    try {
      data = readFileSync(o.userData);
    } catch (err) {
      throw new ClientError(`Can't open '${o.userData}': ${osError(err, o.userData)}`);
    }
    body.user_data = data.toString('base64');
  }
  return body;
}

/** `server rebuild`: the server booted afresh from an image (its own by default), keeping its ID
 * and ports; prints what the rebuild answered, as openstackclient does. */
export function registerRebuild(server: Command): void {
  showOptions(server.command('rebuild').description('rebuild a server from an image').argument('<server>', 'server (name or ID)'))
    .option('--image <image>', 'image to rebuild from (name or ID; default: the one the server runs)')
    .option('--name <name>', 'new name of the rebuilt server')
    .option('--password <password>', 'admin password of the rebuilt server')
    .option('--property <key=value>', 'property of the rebuilt server (repeat for more)', keyValue)
    .option('--description <description>', 'new description (microversion 2.19)')
    .option('--key-name <key-name>', 'key pair of the rebuilt server (microversion 2.54)')
    .option('--user-data <user-data>', 'user data file of the rebuilt server (microversion 2.57)')
    .option('--wait', 'wait until the rebuild is done')
    .action(async (ref: string, o: RebuildOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const images = new ImageClient(session);
      const found = await compute.findServer(ref);
      const current = (found.image as { id?: string } | '' | undefined) || undefined;
      const image = o.image ? await images.find(o.image) : await images.get(current?.id ?? '');
      const answer = await compute.action<{ server: Server }>(found.id, { rebuild: await rebuildBody(compute, image.id, o) });
      if (o.wait) await waitComplete(compute, found.id, 'rebuilding');
      await printShow(cmd, await serverFields(compute, images, answer.server));
    });
}

/** `server backup create`: a backup image of the server (createBackup), the oldest beyond
 * `--rotate` deleted by the cloud; prints the image as openstackclient does. */
export function registerBackup(server: Command): void {
  showOptions(
    server
      .command('backup')
      .description('backups of servers (server backup create)')
      .command('create')
      .description('create a backup image of a server')
      .argument('<server>', 'server to back up (name or ID)'),
  )
    .option('--name <image-name>', 'name of the backup image (default: the server name)')
    .option('--type <backup-type>', 'the backup_type property of the image, e.g. daily (default: empty)')
    .option('--rotate <count>', 'how many backups of this type to keep (default: 1)', (v: string) => {
      if (!/^-?\d+$/.test(v)) throw new ClientError(`argument --rotate: invalid int value: '${v}'`);
      return Number(v);
    })
    .option('--wait', 'wait until the backup image is active')
    .action(async (ref: string, o: { name?: string; type?: string; rotate?: number; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const images = new ImageClient(session);
      const found = await compute.findServer(ref, { style: 'sdk' });
      const name = o.name ?? found.name;
      await compute.action(found.id, { createBackup: { name, backup_type: o.type ?? '', rotation: o.rotate ?? 1 } });
      // The image is found by its name, as openstackclient finds it.
      const image = await images.find(name);
      if (o.wait) {
        const done = await waitForStatus(async () => {
          const i = await images.get(image.id);
          return { status: i.status, progress: (i as { progress?: number }).progress };
        });
        if (!done) throw new ClientError(`Error creating server backup: ${o.name ?? 'None'}`);
        process.stdout.write('\n');
      }
      // The image as it was found, before the wait, as openstackclient prints it.
      await printShow(cmd, imageFields(image));
    });
}
