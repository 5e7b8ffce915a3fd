import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { rows, showFields, type Field } from './network-columns.ts';
import { findProject } from './project.ts';

// `network rbac …`: who else may use a network, as openstackclient prints it.

/** openstacksdk's RBACPolicy, as `network rbac show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'action' },
  { column: 'id' },
  { column: 'object_id' },
  { column: 'object_type' },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'target_project_id', key: 'target_tenant' },
];
const field = (column: string) => FIELDS.find((f) => f.column === column)!;

const TYPES = ['address_group', 'address_scope', 'security_group', 'subnetpool', 'qos_policy', 'network'];
const ACTIONS = ['access_as_external', 'access_as_shared'];

interface RbacOptions {
  type?: string;
  action?: string;
  targetProject?: string;
  targetAllProjects?: boolean;
  targetProjectDomain?: string;
  project?: string;
  projectDomain?: string;
  long?: boolean;
}

/** The object an RBAC policy is on, found by name or ID as openstackclient finds it. */
async function objectId(net: NetworkClient, type: string, ref: string): Promise<string> {
  if (type === 'network') return (await net.find('network', ref)).id;
  if (type === 'qos_policy') return (await net.find('qos-policy', ref)).id;
  if (type === 'subnetpool') return (await net.find('subnet-pool', ref)).id;
  if (type === 'address_scope') return (await net.find('address-scope', ref)).id;
  if (type === 'security_group') return (await net.find('security-group', ref)).id;
  return ref;
}

export function register(rbac: Command): void {
  showOptions(rbac.command('create').description('create an RBAC policy').argument('<rbac-object>', 'the object the policy is on (name or ID)'))
    .addOption(new Option('--type <type>', 'type of the object').choices(TYPES).makeOptionMandatory())
    .addOption(new Option('--action <action>', 'what the target may do').choices(ACTIONS).makeOptionMandatory())
    .option('--target-project <target-project>', 'the project the policy grants to (name or ID)')
    .addOption(new Option('--target-all-projects', 'grant to every project').conflicts('targetProject'))
    .option('--target-project-domain <target-project-domain>', 'domain the target project belongs to (name or ID)')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (ref: string, o: RbacOptions, cmd: Command) => {
      if (!o.targetProject && !o.targetAllProjects) throw new ClientError('Must provide --target-project or --target-all-projects');
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const attrs: Record<string, unknown> = { object_type: o.type, object_id: await objectId(net, o.type!, ref), action: o.action };
      attrs.target_tenant = o.targetAllProjects ? '*' : (await findProject(identity, o.targetProject!, o.targetProjectDomain)).id;
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      await printShow(cmd, showFields(await net.create('rbac-policy', attrs), FIELDS));
    });

  listOptions(rbac.command('list').description('list RBAC policies'))
    .addOption(new Option('--type <type>', 'only the policies on objects of this type').choices(TYPES))
    .addOption(new Option('--action <action>', 'only the policies of this action').choices(ACTIONS))
    .option('--target-project <target-project>', 'only the policies granting to this project (name or ID)')
    .option('--target-project-domain <target-project-domain>', 'domain the target project belongs to (name or ID)')
    .option('--long', 'list more fields')
    .action(async (o: RbacOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const query: NetworkQuery = {
        object_type: o.type,
        action: o.action,
        target_tenant: o.targetProject ? (await findProject(identity, o.targetProject, o.targetProjectDomain)).id : undefined,
      };
      const columns: [string, Field][] = [
        ['ID', field('id')],
        ['Object Type', field('object_type')],
        ['Object ID', field('object_id')],
        ...(o.long ? ([['Action', field('action')]] as [string, Field][]) : []),
      ];
      await printList(
        cmd,
        columns.map(([h]) => h),
        rows(
          await new NetworkClient(session).list('rbac-policy', query),
          columns.map(([, f]) => f),
        ),
      );
    });

  showOptions(rbac.command('show').description('show an RBAC policy').argument('<rbac-policy>', 'RBAC policy (ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, showFields(await new NetworkClient(session).find('rbac-policy', ref), FIELDS));
    },
  );

  rbac
    .command('set')
    .description('change the target of an RBAC policy')
    .argument('<rbac-policy>', 'RBAC policy to modify (ID)')
    .option('--target-project <target-project>', 'the project the policy grants to (name or ID)')
    .option('--target-project-domain <target-project-domain>', 'domain the target project belongs to (name or ID)')
    .action(async (ref: string, o: RbacOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('rbac-policy', ref);
      if (o.targetProject)
        await net.update('rbac-policy', found.id, { target_tenant: (await findProject(identity, o.targetProject, o.targetProjectDomain)).id });
    });

  rbac
    .command('delete')
    .description('delete RBAC policies')
    .argument('<rbac-policy...>', 'RBAC policies to delete (ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      await deleteCounted(
        refs,
        'RBAC policies',
        (ref) => `Failed to delete RBAC policy with ID '${ref}'`,
        async (ref) => net.delete('rbac-policy', (await net.find('rbac-policy', ref)).id),
      );
    });
}
