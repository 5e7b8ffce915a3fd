import type { Command } from 'commander';
import { ComputeClient, type LookupStyle } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { ImageClient } from '../../client/image.ts';
import { connect } from '../context.ts';
import { waitComplete } from './server-format.ts';

/** A server action that takes no arguments, run on each server named in turn, as openstackclient
 * does (stopping at the first failure); `style` is the lookup wording of the client it uses. */
function simple(server: Command, verb: string, help: string, body: Record<string, unknown>, style: LookupStyle): Command {
  return server
    .command(verb)
    .description(help)
    .argument('<server...>', `servers to ${verb} (name or ID)`)
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      for (const ref of refs) await compute.action((await compute.findServer(ref, { style })).id, body);
    });
}

/** `server suspend|resume|shelve|unshelve|lock|unlock|rescue|unrescue|restore`. */
export function registerActions(server: Command): void {
  simple(server, 'suspend', 'suspend servers: their memory saved to disk', { suspend: null }, 'sdk');
  simple(server, 'resume', 'resume suspended servers', { resume: null }, 'sdk');
  simple(server, 'shelve', 'shelve servers: snapshot them and free their host', { shelve: null }, 'nova');
  simple(server, 'unshelve', 'unshelve servers: boot them again from their snapshot', { unshelve: null }, 'nova');
  simple(server, 'unlock', 'unlock servers', { unlock: null }, 'nova');
  simple(server, 'unrescue', 'boot rescued servers from their own disk again', { unrescue: null }, 'nova');
  simple(server, 'restore', 'restore soft-deleted servers', { restore: null }, 'nova');

  server
    .command('lock')
    .description('lock servers: only admins may act on them')
    .argument('<server...>', 'servers to lock (name or ID)')
    .option('--reason <reason>', 'why the servers are locked (needs microversion 2.73)')
    .action(async (refs: string[], o: { reason?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      // The reason came with 2.73.
      const withReason = await compute.atLeast('2.73');
      if (o.reason && !withReason) throw new ClientError('--os-compute-api-version 2.73 or greater is required to use the --reason option.');
      const body = withReason && o.reason ? { lock: { locked_reason: o.reason } } : { lock: null };
      for (const ref of refs) await compute.action((await compute.findServer(ref, { style: 'nova' })).id, body);
    });

  server
    .command('rescue')
    .description('boot a server from a rescue image, its own disk attached second')
    .argument('<server>', 'server (name or ID)')
    .option('--image <image>', 'image (name or ID) to boot (default: the server’s own)')
    .option('--password <password>', 'admin password of the rescued server')
    .action(async (ref: string, o: { image?: string; password?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const image = o.image ? (await new ImageClient(session).find(o.image)).id : undefined;
      const found = await compute.findServer(ref, { style: 'nova' });
      await compute.action(found.id, { rescue: { ...(image ? { rescue_image_ref: image } : {}), ...(o.password ? { adminPass: o.password } : {}) } });
    });

  registerResize(server);
  registerMoves(server);
}

/** `server migrate [--live-migration] [--host] [--wait]`, `server migrate confirm|revert` and
 * `server evacuate`: an admin's moves between hosts, as openstackclient words them. */
function registerMoves(server: Command): void {
  const migrate = server
    .command('migrate')
    .description('move a server to another host: stopped and copied (then confirm or revert), or live')
    .argument('<server>', 'server (name or ID)')
    .option('--live-migration', 'move the running server with its memory')
    .option('--host <host>', 'the destination host (default: the scheduler chooses)')
    .option('--block-migration', 'live: copy the local disk (the default: the hosts tell)')
    .option('--shared-migration', 'live: the disks are on storage both hosts open')
    .option('--wait', 'wait until the move is done (live) or awaits confirmation (cold)')
    .action(
      async (ref: string, o: { liveMigration?: boolean; host?: string; blockMigration?: boolean; sharedMigration?: boolean; wait?: boolean }, cmd: Command) => {
        const { session } = await connect(cmd);
        const compute = new ComputeClient(session);
        if (!o.liveMigration && (o.blockMigration || o.sharedMigration))
          throw new ClientError('--live-migration must be specified if --block-migration or --disk-overcommit is specified');
        const found = await compute.findServer(ref, { style: 'nova' });
        const block = o.blockMigration ? true : o.sharedMigration ? false : 'auto';
        const body = o.liveMigration ? { 'os-migrateLive': { host: o.host ?? null, block_migration: block } } : { migrate: o.host ? { host: o.host } : null };
        await compute.action(found.id, body);
        if (o.wait) await waitComplete(compute, found.id, 'migrating', ['active', 'verify_resize']);
      },
    );
  confirmAndRevert(migrate, 'confirm a cold migration: the guest kept on the old host goes', 'revert a cold migration: back to the old host');

  server
    .command('evacuate')
    .description('rebuild a server whose host is down on another host, from its image or volume')
    .argument('<server>', 'server (name or ID)')
    .option('--host <host>', 'the destination host (default: the scheduler chooses)')
    .option('--wait', 'wait until the server runs on its new host')
    .action(async (ref: string, o: { host?: string; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref, { style: 'nova' });
      await compute.action(found.id, { evacuate: o.host ? { host: o.host } : {} });
      if (o.wait) await waitComplete(compute, found.id, 'evacuating', ['active', 'shutoff']);
    });
}

/** `server resize --flavor|--confirm|--revert <server>` and `server resize confirm|revert <server>`. */
function registerResize(server: Command): void {
  const resize = server
    .command('resize')
    .description('resize a server to a new flavor, then confirm or revert it (server resize confirm|revert)')
    .argument('<server>', 'server (name or ID)')
    .option('--flavor <flavor>', 'the new flavor (name or ID)')
    .option('--confirm', 'deprecated: confirm the resize (server resize confirm)')
    .option('--revert', 'deprecated: revert the resize (server resize revert)')
    .option('--wait', 'with --flavor: wait until the resize awaits confirmation')
    .action(async (ref: string, o: { flavor?: string; confirm?: boolean; revert?: boolean; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref, { style: 'nova' });
      if (o.flavor) {
        await compute.action(found.id, { resize: { flavorRef: (await compute.findFlavor(o.flavor, 'nova')).id } });
        if (o.wait) await waitComplete(compute, found.id, 'resizing', ['active', 'verify_resize']);
        return;
      }
      // openstackclient warns of the old options and still honours them.
      if (o.confirm) {
        process.stderr.write("The --confirm option has been deprecated. Please use the 'openstack server resize confirm' command instead.\n");
        return compute.action(found.id, { confirmResize: null });
      }
      if (o.revert) {
        process.stderr.write("The --revert option has been deprecated. Please use the 'openstack server resize revert' command instead.\n");
        return compute.action(found.id, { revertResize: null });
      }
    });
  confirmAndRevert(resize, 'confirm a resize: the old server is released', 'revert a resize: back to the old flavor');
}

/** `<parent> confirm|revert <server>`: the two ways a resize or a cold migration ends. */
function confirmAndRevert(parent: Command, confirmHelp: string, revertHelp: string): void {
  for (const [verb, body, help] of [
    ['confirm', 'confirmResize', confirmHelp],
    ['revert', 'revertResize', revertHelp],
  ] as const) {
    parent
      .command(verb)
      .description(help)
      .argument('<server>', 'server (name or ID)')
      .action(async (ref: string, _o, cmd: Command) => {
        const { session } = await connect(cmd);
        const compute = new ComputeClient(session);
        await compute.action((await compute.findServer(ref, { style: 'nova' })).id, { [body]: null });
      });
  }
}
