import { InvalidArgumentError, type Command } from 'commander';
import { ComputeClient, type Flavor, type FlavorFields } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import type { IdentityClient } from '../../client/identity.ts';
import { connect, deleteCounted } from '../context.ts';
import { collect } from '../options.ts';
import { Float, listOptions, printList, printShow, showOptions } from '../output.ts';
import { dictColumn, logError, sortedFields } from './compute-columns.ts';
import { integer, keyValue, oneOf } from './image-options.ts';
import { findProject } from './project.ts';

/** A decimal number, as argparse's type=float reads it. */
function float(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`invalid float value: '${value}'`);
  return n;
}

const domainOption = (cmd: Command) =>
  cmd.option('--project-domain <project-domain>', 'domain the project belongs to (name or ID); for names that are in several domains');

/** A flavor's fields as openstackclient shows them (openstacksdk's names, sorted); with
 * `access`, the projects a private flavor is shared with. */
function flavorFields(f: Flavor, specs: Record<string, string>, access?: string[] | null): Record<string, unknown> {
  return sortedFields({
    'OS-FLV-DISABLED:disabled': f['OS-FLV-DISABLED:disabled'] ?? null,
    'OS-FLV-EXT-DATA:ephemeral': f['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
    ...(access === undefined ? {} : { access_project_ids: access }),
    description: f.description ?? null,
    disk: f.disk ?? 0,
    id: f.id,
    name: f.name,
    'os-flavor-access:is_public': f['os-flavor-access:is_public'] ?? true,
    properties: dictColumn(specs),
    ram: f.ram ?? 0,
    rxtx_factor: typeof f.rxtx_factor === 'number' ? new Float(f.rxtx_factor) : null,
    swap: f.swap ?? 0,
    vcpus: f.vcpus ?? 0,
  });
}

/** Refuses --description below microversion 2.55, which brought it, as openstackclient does. */
async function needDescriptions(compute: ComputeClient): Promise<void> {
  if (!(await compute.atLeast('2.55'))) throw new ClientError('The --description parameter requires server support for API microversion 2.55');
}

const projectIdOf = async (identity: IdentityClient, ref: string, domain?: string) => (await findProject(identity, ref, domain)).id;

interface CreateOptions {
  id?: string;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  vcpus: number;
  rxtxFactor: number;
  public?: boolean;
  private?: boolean;
  property?: Record<string, string>;
  project?: string;
  projectDomain?: string;
  description?: string;
}

interface ListOptions {
  public?: boolean;
  private?: boolean;
  all?: boolean;
  minDisk?: number;
  minRam?: number;
  long?: boolean;
  marker?: string;
  limit?: number;
}

export function register(flavor: Command): void {
  const create = flavor.command('create').description('create a new flavor').argument('<flavor-name>', 'new flavor name');
  oneOf(create, { public: 'flavor is available to other projects (default)', private: 'flavor is not available to other projects' });
  showOptions(domainOption(create))
    .option('--id <id>', 'unique flavor ID (default: a new UUID)')
    .option('--ram <size-mb>', 'memory size in MB', integer, 256)
    .option('--disk <size-gb>', 'disk size in GB', integer, 0)
    .option('--ephemeral <size-gb>', 'ephemeral disk size in GB', integer, 0)
    .option('--swap <size-mb>', 'additional swap space size in MB', integer, 0)
    .option('--vcpus <vcpus>', 'number of vCPUs', integer, 1)
    .option('--rxtx-factor <factor>', 'RX/TX factor', float, 1.0)
    .option('--property <key=value>', 'property (extra spec) to add to the flavor (repeat for more)', keyValue)
    .option('--project <project>', 'allow this project to use the private flavor (name or ID); needs --private')
    .option('--description <description>', 'flavor description (microversion 2.55)')
    .action(async (name: string, o: CreateOptions, cmd: Command) => {
      if (o.project && !o.private) throw new ClientError('--project is only allowed with --private');
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      if (o.description) await needDescriptions(compute);
      const fields: FlavorFields & { description?: string } = {
        name,
        id: o.id,
        ram: o.ram,
        vcpus: o.vcpus,
        disk: o.disk,
        'OS-FLV-EXT-DATA:ephemeral': o.ephemeral,
        swap: o.swap,
        rxtx_factor: o.rxtxFactor,
        'os-flavor-access:is_public': !o.private,
        ...(o.description ? { description: o.description } : {}),
      };
      const created = await compute.createFlavor(fields);
      // As openstackclient: the flavor stays, and is shown, when access or properties fail.
      if (o.project) {
        try {
          await compute.addFlavorAccess(created.id, await projectIdOf(identity, o.project, o.projectDomain));
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          logError(`Failed to add project ${o.project} access to flavor: ${err.message}`);
        }
      }
      let specs: Record<string, string> = {};
      if (o.property) {
        try {
          specs = await compute.setExtraSpecs(created.id, o.property);
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          logError(`Failed to set flavor properties: ${err.message}`);
        }
      }
      await printShow(cmd, flavorFields(created, specs));
    });

  const list = flavor.command('list').description('list flavors');
  oneOf(list, {
    public: 'list only public flavors (default)',
    private: 'list only private flavors',
    all: 'list all flavors, public or private',
  });
  listOptions(list)
    .option('--min-disk <min-disk>', 'only flavors with at least this much disk, in GiB', integer)
    .option('--min-ram <min-ram>', 'only flavors with at least this much RAM, in MiB', integer)
    .option('--long', 'list more fields')
    .option('--marker <flavor-id>', 'the last flavor ID of the previous page')
    .option('--limit <num-flavors>', 'at most this many flavors', integer)
    .action(async (o: ListOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const flavors = await compute.flavors({
        is_public: o.all ? 'None' : o.private ? 'False' : 'True',
        minDisk: o.minDisk || undefined,
        minRam: o.minRam || undefined,
        marker: o.marker || undefined,
        limit: o.limit || undefined,
      });
      const columns = ['ID', 'Name', 'RAM', 'Disk', 'Ephemeral', 'VCPUs', 'Is Public'];
      const rows: unknown[][] = flavors.map((f) => [f.id, f.name, f.ram, f.disk, f['OS-FLV-EXT-DATA:ephemeral'], f.vcpus, f['os-flavor-access:is_public']]);
      if (o.long) {
        // Only the long listing shows extra specs, so only it fetches them (one request per flavor).
        const specs = await Promise.all(flavors.map((f) => (f.extra_specs && Object.keys(f.extra_specs).length ? f.extra_specs : compute.extraSpecs(f.id))));
        columns.push('Swap', 'RXTX Factor', 'Properties');
        flavors.forEach((f, i) => rows[i]!.push(f.swap, typeof f.rxtx_factor === 'number' ? new Float(f.rxtx_factor) : null, dictColumn(specs[i])));
      }
      await printList(cmd, columns, rows);
    });

  showOptions(
    flavor.command('show').description('show a flavor, with its properties and the projects it is shared with').argument('<flavor>', 'flavor (name or ID)'),
  ).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const compute = new ComputeClient(session);
    const found = await compute.findFlavor(ref);
    const [specs, access] = await Promise.all([
      found.extra_specs && Object.keys(found.extra_specs).length ? found.extra_specs : compute.extraSpecs(found.id),
      found['os-flavor-access:is_public']
        ? null
        : compute.flavorAccess(found.id).catch((err: Error) => {
            if (!(err instanceof ClientError)) throw err;
            logError(`Failed to get access projects list for flavor '${ref}': ${err.message}`);
            return null;
          }),
    ]);
    await printShow(cmd, flavorFields(found, specs, access));
  });

  const set = flavor
    .command('set')
    .description('set flavor properties, or share a private flavor with a project')
    .argument('<flavor>', 'flavor to modify (name or ID)');
  // commander reads --no-property as property=false, which a later --property overwrites: the
  // event says it was given, wherever it stood.
  let clear = false;
  const properties: Record<string, string> = {};
  set.on('option:no-property', () => (clear = true));
  domainOption(set)
    .option('--property <key=value>', 'property to add or change (repeat for more)', (v: string) => Object.assign(properties, keyValue(v)))
    .option('--no-property', 'remove every property first (with --property, before setting the new ones)')
    .option('--project <project>', 'share the private flavor with this project (name or ID) (admin only)')
    .option('--description <description>', 'new description (microversion 2.55)')
    .action(async (ref: string, o: { project?: string; projectDomain?: string; description?: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findFlavor(ref);
      if (o.description) await needDescriptions(compute);
      let failed = 0;
      const attempt = async (what: string, work: () => Promise<void>) => {
        try {
          await work();
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          logError(`${what}: ${err.message}`);
          failed++;
        }
      };
      if (clear) {
        await attempt('Failed to clear flavor properties', async () => {
          for (const key of Object.keys(await compute.extraSpecs(found.id))) await compute.deleteExtraSpec(found.id, key);
        });
      }
      if (o.description) await attempt('Failed to set flavor description', async () => void (await compute.describeFlavor(found.id, o.description!)));
      if (Object.keys(properties).length)
        await attempt('Failed to set flavor properties', async () => void (await compute.setExtraSpecs(found.id, properties)));
      if (o.project) {
        await attempt('Failed to set flavor access to project', async () => {
          if (found['os-flavor-access:is_public']) throw new ClientError('Cannot set access for a public flavor');
          await compute.addFlavorAccess(found.id, await projectIdOf(identity, o.project!, o.projectDomain));
        });
      }
      if (failed) throw new ClientError('Command Failed: One or more of the operations failed');
    });

  domainOption(
    flavor
      .command('unset')
      .description('unset flavor properties, or stop sharing a private flavor with a project')
      .argument('<flavor>', 'flavor to modify (name or ID)'),
  )
    .option('--property <key>', 'property to remove (repeat for more)', collect, [])
    .option('--project <project>', 'stop sharing the private flavor with this project (name or ID) (admin only)')
    .action(async (ref: string, o: { property: string[]; project?: string; projectDomain?: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findFlavor(ref);
      let failed = 0;
      for (const key of o.property) {
        try {
          await compute.deleteExtraSpec(found.id, key);
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          logError(`Failed to unset flavor property: ${err.message}`);
          failed++;
        }
      }
      if (o.project) {
        try {
          if (found['os-flavor-access:is_public']) throw new ClientError('Cannot remove access for a public flavor');
          await compute.removeFlavorAccess(found.id, await projectIdOf(identity, o.project, o.projectDomain));
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          logError(`Failed to remove flavor access from project: ${err.message}`);
          failed++;
        }
      }
      if (failed) throw new ClientError('Command Failed: One or more of the operations failed');
    });

  flavor
    .command('delete')
    .description('delete flavors')
    .argument('<flavor...>', 'flavors to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      await deleteCounted(
        refs,
        'flavors',
        (ref) => `Failed to delete flavor with name or ID '${ref}'`,
        async (ref) => compute.deleteFlavor((await compute.findFlavor(ref)).id),
      );
    });
}
