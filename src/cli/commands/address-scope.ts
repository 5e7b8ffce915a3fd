import { Option, type Command } from 'commander';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { deleteAll, rows, showFields, type Field } from './network-columns.ts';
import { findProject } from './project.ts';

// `address scope …`, as openstackclient prints it.

/** openstacksdk's AddressScope, as `address scope show` names its attributes. */
const FIELDS: Field[] = [{ column: 'id' }, { column: 'ip_version' }, { column: 'name' }, { column: 'project_id', alias: 'tenant_id' }, { column: 'shared' }];
const field = (column: string) => FIELDS.find((f) => f.column === column)!;

interface ScopeOptions {
  name?: string;
  ipVersion?: string;
  share?: boolean;
  project?: string;
  projectDomain?: string;
}

const sharing = (cmd: Command, what: string) =>
  cmd.option('--share', `${what} shared between projects`).option('--no-share', `${what} not shared between projects`);

function registerScope(scope: Command): void {
  showOptions(sharing(scope.command('create').description('create an address scope').argument('<name>', 'name of the new address scope'), 'the scope is'))
    .addOption(new Option('--ip-version <ip-version>', 'IP version of the scope').choices(['4', '6']).default('4'))
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (name: string, o: ScopeOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const attrs: Record<string, unknown> = { name, ip_version: Number(o.ipVersion) };
      if (o.share !== undefined) attrs.shared = o.share;
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      await printShow(cmd, showFields(await new NetworkClient(session).create('address-scope', attrs), FIELDS));
    });

  sharing(listOptions(scope.command('list').description('list address scopes')), 'only the scopes')
    .option('--name <name>', 'only the scopes of this name')
    .addOption(new Option('--ip-version <ip-version>', 'only the scopes of this IP version').choices(['4', '6']))
    .option('--project <project>', 'only the scopes of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (o: ScopeOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const query: NetworkQuery = {
        name: o.name,
        ip_version: o.ipVersion,
        project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
        shared: o.share,
        is_shared: o.share,
      };
      const columns: [string, Field][] = [
        ['ID', field('id')],
        ['Name', field('name')],
        ['IP Version', field('ip_version')],
        ['Shared', field('shared')],
        ['Project', field('project_id')],
      ];
      await printList(
        cmd,
        columns.map(([h]) => h),
        rows(
          await new NetworkClient(session).list('address-scope', query),
          columns.map(([, f]) => f),
        ),
      );
    });

  showOptions(scope.command('show').description('show an address scope').argument('<address-scope>', 'address scope (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, showFields(await new NetworkClient(session).find('address-scope', ref), FIELDS));
    },
  );

  sharing(scope.command('set').description("change an address scope's properties").argument('<address-scope>', 'address scope to modify (name or ID)'), 'the scope is')
    .option('--name <name>', 'new name of the scope')
    .action(async (ref: string, o: ScopeOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('address-scope', ref);
      const attrs: Record<string, unknown> = {};
      if (o.name !== undefined) attrs.name = o.name;
      if (o.share !== undefined) attrs.shared = o.share;
      if (Object.keys(attrs).length) await net.update('address-scope', found.id, attrs);
    });

  scope
    .command('delete')
    .description('delete address scopes')
    .argument('<address-scope...>', 'address scopes to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'address-scope', 'address scope', refs);
    });
}

/** The `address` group: `address scope …`. */
export function register(address: Command): void {
  registerScope(address.command('scope').description('address scopes: subnet pools whose prefixes never overlap'));
}
