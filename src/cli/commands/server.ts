import { Option, type Command } from 'commander';
import { ComputeClient, type LookupStyle, type Server } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { ImageClient } from '../../client/image.ts';
import { connect } from '../context.ts';
import { collect } from '../options.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { imageFields } from './image-format.ts';
import { integer, keyValue, oneOf } from './image-options.ts';
import { findProject } from './project.ts';
import { registerCreate } from './server-create.ts';
import { registerActions } from './server-actions.ts';
import { registerMigrations } from './server-migration.ts';
import { registerEvent } from './server-event.ts';
import { registerBackup, registerRebuild } from './server-rebuild.ts';
import { registerGroup } from './server-group.ts';
import { lookupNames, serverFields, serverTable, waitComplete, waitForDelete, waitForStatus, type Names } from './server-format.ts';

// Nova's status values, which `server list --status` takes.
const STATUSES = [
  'ACTIVE',
  'BUILD',
  'DELETED',
  'ERROR',
  'HARD_REBOOT',
  'MIGRATING',
  'PASSWORD',
  'PAUSED',
  'REBOOT',
  'REBUILD',
  'RESCUE',
  'RESIZE',
  'REVERT_RESIZE',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'SHUTOFF',
  'SOFT_DELETED',
  'SUSPENDED',
  'VERIFY_RESIZE',
];

/** --all-projects, which the ALL_PROJECTS variable turns on too, as in openstackclient. */
const allProjectsDefault = () => ['1', 'true', 'yes', 'on', 'y', 't'].includes((process.env.ALL_PROJECTS ?? '').toLowerCase());
const allProjectsOption = (cmd: Command, help: string) => cmd.option('--all-projects', `${help} (admin only) (env: ALL_PROJECTS)`, allProjectsDefault());

interface ListOptions {
  name?: string;
  status?: string;
  flavor?: string;
  image?: string;
  host?: string;
  allProjects?: boolean;
  project?: string;
  projectDomain?: string;
  changesSince?: string;
  long?: boolean;
  nameLookup: boolean;
  nameLookupOneByOne?: boolean;
  marker?: string;
  limit?: number;
  column?: string[];
}

/** The commands that act on each server named, one after the other, stopping at the first failure
 * as openstackclient does. */
function eachServer(
  server: Command,
  verb: string,
  help: string,
  act: (compute: ComputeClient, s: Server) => Promise<void>,
  style: LookupStyle,
  allProjects = false,
): void {
  const cmd = server.command(verb).description(help).argument('<server...>', `servers to ${verb} (name or ID)`);
  if (allProjects) allProjectsOption(cmd, `${verb} servers of other projects by name`);
  cmd.action(async (refs: string[], o: { allProjects?: boolean }, c: Command) => {
    const { session } = await connect(c);
    const compute = new ComputeClient(session);
    for (const ref of refs) await act(compute, await compute.findServer(ref, { style, allProjects: o.allProjects }));
  });
}

export function register(server: Command): void {
  registerCreate(server);
  registerGroup(server);
  registerEvent(server);
  registerActions(server);
  registerMigrations(server);
  registerRebuild(server);
  registerBackup(server);

  const list = server.command('list').description('list servers, with the names of their images and flavors');
  list
    .addOption(new Option('-n, --no-name-lookup', 'show image and flavor IDs, not names'))
    .addOption(new Option('--name-lookup-one-by-one', 'look up the names of the images and flavors in use only, one by one').conflicts('nameLookup'));
  listOptions(allProjectsOption(list, 'include all projects'))
    .option('--name <name-regex>', 'only servers whose name matches this regular expression')
    .addOption(new Option('--status <status>', 'only servers in this status').choices(STATUSES))
    .option('--flavor <flavor>', 'only servers of this flavor (name or ID)')
    .option('--image <image>', 'only servers of this image (name or ID)')
    .option('--host <hostname>', 'only servers on this host (admin only)')
    .option('--project <project>', 'only servers of this project (admin only) (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--changes-since <changes-since>', 'only servers changed since this time (ISO 8601)')
    .option('--long', 'list more fields')
    .option('--marker <server>', 'the last server of the previous page (name or ID)')
    .option('--limit <num-servers>', 'at most this many servers; -1 for every one', integer)
    .action(async (o: ListOptions, cmd: Command) => {
      if (o.changesSince !== undefined && Number.isNaN(Date.parse(o.changesSince))) throw new ClientError(`Invalid changes-since value: ${o.changesSince}`);
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      const images = new ImageClient(session);
      const [project, flavor, image, marker] = await Promise.all([
        o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
        o.flavor ? compute.findFlavor(o.flavor, 'nova') : undefined,
        o.image ? images.find(o.image) : undefined,
        o.marker ? compute.findServer(o.marker) : undefined,
      ]);
      const query = {
        name: o.name,
        status: o.status,
        flavor: flavor?.id,
        image: image?.id,
        host: o.host,
        tenant_id: project?.id,
        all_tenants: o.allProjects || project ? 'True' : undefined,
        'changes-since': o.changesSince,
        marker: marker?.id,
        limit: o.limit,
      };
      const [embeddedFlavor, hostStatus] = await Promise.all([compute.atLeast('2.47'), compute.atLeast('2.16')]);
      const noLookup = !o.nameLookup;
      const oneByOne = Boolean(o.nameLookupOneByOne || image);
      // The listings that name images and flavors go out beside the server listing, not after it.
      const listing = compute.servers(query);
      const names: Promise<Names> | undefined = noLookup ? undefined : lookupNames(compute, images, () => listing, oneByOne);
      names?.catch(() => undefined);
      const servers = await listing;
      const table = serverTable(servers, servers.length && names ? await names : noLookup ? undefined : { images: new Map(), flavors: new Map() }, {
        ...o,
        embeddedFlavor,
        hostStatus,
      });
      await printList(cmd, table.columns, table.rows);
    });

  showOptions(server.command('show').description('show a server').argument('<server>', 'server (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const compute = new ComputeClient(session);
    const found = await compute.findServer(ref);
    // A server found by name comes from the listing, which lacks what only GET of one server has
    // (2.71's server_groups): read it again, as openstackclient does.
    const server = found.id === ref ? found : await compute.server(found.id);
    await printShow(cmd, await serverFields(compute, new ImageClient(session), server));
  });

  allProjectsOption(
    server.command('delete').description('delete servers').argument('<server...>', 'servers to delete (name or ID)'),
    'delete servers of other projects by name',
  )
    .option('--wait', 'wait until each server is gone')
    .action(async (refs: string[], o: { allProjects?: boolean; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      for (const ref of refs) {
        const found = await compute.findServer(ref, { allProjects: o.allProjects });
        await compute.deleteServer(found.id);
        if (o.wait && !(await waitForDelete(compute, found.id))) throw new ClientError(`Error deleting server: ${found.id}`);
      }
    });

  eachServer(server, 'start', 'start servers', (c, s) => c.action(s.id, { 'os-start': null }), 'nova', true);
  eachServer(server, 'stop', 'stop servers', (c, s) => c.action(s.id, { 'os-stop': null }), 'nova', true);
  eachServer(server, 'pause', 'pause servers', (c, s) => c.action(s.id, { pause: null }), 'sdk');
  eachServer(server, 'unpause', 'unpause servers', (c, s) => c.action(s.id, { unpause: null }), 'sdk');

  const reboot = server.command('reboot').description('reboot a server, softly (default) or hard').argument('<server>', 'server (name or ID)');
  oneOf(reboot, { hard: 'hard reboot: reset the server', soft: 'soft reboot: ask the guest to restart (default)' })
    .option('--wait', 'wait until the server is ACTIVE again')
    .action(async (ref: string, o: { hard?: boolean; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref);
      await compute.action(found.id, { reboot: { type: o.hard ? 'HARD' : 'SOFT' } });
      if (o.wait) await waitComplete(compute, found.id, 'rebooting');
    });

  server
    .command('set')
    .description("change a server's name or metadata")
    .argument('<server>', 'server (name or ID)')
    .option('--name <new-name>', 'new server name')
    .option('--property <key=value>', 'metadata item to add or change (repeat for more)', keyValue)
    .action(async (ref: string, o: { name?: string; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref);
      if (o.name) await compute.renameServer(found.id, o.name);
      if (o.property) await compute.setMetadata(found.id, o.property);
    });

  server
    .command('unset')
    .description('remove metadata items of a server')
    .argument('<server>', 'server (name or ID)')
    .option('--property <key>', 'metadata item to remove (repeat for more)', collect, [])
    .action(async (ref: string, o: { property: string[] }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref);
      for (const key of o.property) await compute.deleteMetadata(found.id, key);
    });

  // The floating IP and volume commands live with the others, loaded only when one of them runs.
  const add = server.command('add').description('add things to servers (server add floating ip, server add volume)');
  showOptions(
    add.command('volume').description('attach a volume to a server').argument('<server>', 'server (name or ID)').argument('<volume>', 'volume (name or ID)'),
  )
    .option('--device <device>', 'the device name the server should see, e.g. /dev/vdb (default: the next free one)')
    .action(async (ref: string, volume: string, o: { device?: string }, cmd: Command) =>
      (await import('./server-volume.ts')).addVolume(cmd, ref, volume, o.device),
    );
  add
    .command('floating')
    .description('floating IPs of servers (server add floating ip)')
    .command('ip')
    .description('associate a floating IP with a server')
    .argument('<server>', 'server (name or ID)')
    .argument('<ip-address>', 'floating IP address')
    .option('--fixed-ip-address <ip-address>', "the server's fixed IP to map it to (default: the first port that can reach it)")
    .action(async (ref: string, address: string, o: { fixedIpAddress?: string }, cmd: Command) =>
      (await import('./floating-ip.ts')).addToServer(cmd, ref, address, o.fixedIpAddress),
    );
  const remove = server.command('remove').description('remove things from servers (server remove floating ip, server remove volume)');
  remove
    .command('volume')
    .description('detach a volume from a server')
    .argument('<server>', 'server (name or ID)')
    .argument('<volume>', 'volume (name or ID)')
    .action(async (ref: string, volume: string, _o, cmd: Command) => (await import('./server-volume.ts')).removeVolume(cmd, ref, volume));
  remove
    .command('floating')
    .description('floating IPs of servers (server remove floating ip)')
    .command('ip')
    .description('dissociate a floating IP from a server')
    .argument('<server>', 'server (name or ID)')
    .argument('<ip-address>', 'floating IP address')
    .action(async (_ref: string, address: string, _o, cmd: Command) => (await import('./floating-ip.ts')).removeFromServer(cmd, address));

  showOptions(
    server
      .command('image')
      .description('images of servers (server image create)')
      .command('create')
      .description("create an image of a server's disk")
      .argument('<server>', 'server to create the image of (name or ID)'),
  )
    .option('--name <image-name>', 'name of the new image (default: the server name)')
    .option('--property <key=value>', 'property of the new image (repeat for more)', keyValue)
    .option('--wait', 'wait until the image is active')
    .action(async (ref: string, o: { name?: string; property?: Record<string, string>; wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const images = new ImageClient(session);
      const found = await compute.findServer(ref, { style: 'sdk' });
      const imageId = await compute.createImage(found.id, o.name ?? found.name, o.property);
      if (o.wait) {
        if (!(await waitForStatus(async () => ({ status: (await images.get(imageId)).status })))) throw new ClientError(`Error creating server image: ${ref}`);
        process.stdout.write('\n');
      }
      await printShow(cmd, imageFields(await images.find(imageId)));
    });
}
