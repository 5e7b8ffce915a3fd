import type { Command } from 'commander';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { append, deleteAll, list, rows, showFields, type Field } from './network-columns.ts';
import { findProject } from './project.ts';

// `subnet pool …`, as openstackclient prints it.

/** openstacksdk's SubnetPool, as `subnet pool show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'address_scope_id' },
  { column: 'created_at' },
  { column: 'default_prefixlen' },
  { column: 'default_quota' },
  { column: 'description' },
  { column: 'id' },
  { column: 'ip_version' },
  { column: 'is_default' },
  { column: 'max_prefixlen' },
  { column: 'min_prefixlen' },
  { column: 'name' },
  { column: 'prefixes', format: list },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'revision_number' },
  { column: 'shared' },
  { column: 'tags', fallback: [], format: list },
  { column: 'updated_at' },
];
const field = (column: string) => FIELDS.find((f) => f.column === column)!;

interface PoolOptions {
  name?: string;
  poolPrefix?: string[];
  defaultPrefixLength?: string;
  minPrefixLength?: string;
  maxPrefixLength?: string;
  /** A scope's name or ID, or false for --no-address-scope. */
  addressScope?: string | false;
  default?: boolean;
  share?: boolean;
  description?: string;
  defaultQuota?: string;
  project?: string;
  projectDomain?: string;
}

async function attrsOf(net: NetworkClient, o: PoolOptions): Promise<Record<string, unknown>> {
  const attrs: Record<string, unknown> = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.poolPrefix) attrs.prefixes = o.poolPrefix;
  if (o.defaultPrefixLength !== undefined) attrs.default_prefixlen = Number(o.defaultPrefixLength);
  if (o.minPrefixLength !== undefined) attrs.min_prefixlen = Number(o.minPrefixLength);
  if (o.maxPrefixLength !== undefined) attrs.max_prefixlen = Number(o.maxPrefixLength);
  if (o.addressScope) attrs.address_scope_id = (await net.find('address-scope', o.addressScope)).id;
  if (o.addressScope === false) attrs.address_scope_id = null;
  if (o.default !== undefined) attrs.is_default = o.default;
  if (o.share !== undefined) attrs.shared = o.share;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.defaultQuota !== undefined) attrs.default_quota = Number(o.defaultQuota);
  return attrs;
}

const common = (cmd: Command) =>
  cmd
    .option('--default-prefix-length <default-prefix-length>', 'default prefix length of the subnets allocated from the pool')
    .option('--min-prefix-length <min-prefix-length>', 'minimum prefix length')
    .option('--max-prefix-length <max-prefix-length>', 'maximum prefix length')
    .option('--address-scope <address-scope>', 'address scope of the pool (name or ID)')
    .option('--default', 'make it the default subnet pool of its IP version')
    .option('--no-default', 'make it not the default subnet pool')
    .option('--description <description>', 'description of the pool')
    .option('--default-quota <num-ip-addresses>', 'addresses each project may take from the pool');

export function register(pool: Command): void {
  showOptions(common(pool.command('create').description('create a subnet pool').argument('<name>', 'name of the new subnet pool')))
    .requiredOption('--pool-prefix <pool-prefix>', 'a prefix of the pool (repeat for more)', append)
    .option('--share', 'share the pool with every project')
    .option('--no-share', 'do not share the pool')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (name: string, o: PoolOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const attrs = await attrsOf(net, { ...o, name });
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      await printShow(cmd, showFields(await net.create('subnet-pool', attrs), FIELDS));
    });

  listOptions(pool.command('list').description('list subnet pools'))
    .option('--long', 'list more fields')
    .option('--share', 'only the pools shared between projects')
    .option('--no-share', 'only the pools not shared')
    .option('--default', 'only the default pools')
    .option('--no-default', 'only the pools that are not default')
    .option('--project <project>', 'only the pools of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--name <name>', 'only the pools of this name')
    .option('--address-scope <address-scope>', 'only the pools of this address scope (name or ID)')
    .action(async (o: PoolOptions & { long?: boolean }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const query: NetworkQuery = {
        shared: o.share,
        is_shared: o.share,
        is_default: o.default,
        project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
        name: o.name,
        address_scope_id: o.addressScope ? (await net.find('address-scope', o.addressScope)).id : undefined,
      };
      const columns: [string, Field][] = [
        ['ID', field('id')],
        ['Name', field('name')],
        ['Prefixes', field('prefixes')],
        ...(o.long
          ? ([
              ['Default Prefix Length', field('default_prefixlen')],
              ['Address Scope', field('address_scope_id')],
              ['Default Subnet Pool', field('is_default')],
              ['Shared', field('shared')],
              ['Tags', field('tags')],
            ] as [string, Field][])
          : []),
      ];
      await printList(
        cmd,
        columns.map(([h]) => h),
        rows(
          await net.list('subnet-pool', query),
          columns.map(([, f]) => f),
        ),
      );
    });

  showOptions(pool.command('show').description('show a subnet pool').argument('<subnet-pool>', 'subnet pool (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, showFields(await new NetworkClient(session).find('subnet-pool', ref), FIELDS));
    },
  );

  common(pool.command('set').description("change a subnet pool's properties").argument('<subnet-pool>', 'subnet pool to modify (name or ID)'))
    .option('--name <name>', 'new name of the pool')
    .option('--pool-prefix <pool-prefix>', 'a prefix to add to the pool (repeat for more)', append)
    .option('--no-address-scope', 'take the pool out of its address scope')
    .action(async (ref: string, o: PoolOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('subnet-pool', ref);
      const attrs = await attrsOf(net, o);
      // Prefixes are added to the pool's, as openstackclient does.
      if (attrs.prefixes) attrs.prefixes = [...(attrs.prefixes as string[]), ...(found.prefixes as string[])];
      if (Object.keys(attrs).length) await net.update('subnet-pool', found.id, attrs);
    });

  pool
    .command('delete')
    .description('delete subnet pools')
    .argument('<subnet-pool...>', 'subnet pools to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'subnet-pool', 'subnet pool', refs);
    });
}
