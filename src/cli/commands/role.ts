import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import type { GrantTarget, Grantee, IdentityClient } from '../../client/identity.ts';
import { connect, createOrShow, deleteEach } from '../context.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { findUser } from './user.ts';
import { findGroup } from './group.ts';
import { registerAssignments } from './role-assignment.ts';

interface GrantOptions {
  user?: string;
  userDomain?: string;
  group?: string;
  groupDomain?: string;
  inherited?: boolean;
  project?: string;
  projectDomain?: string;
  domain?: string;
  system?: string;
}

const grantOptions = (cmd: Command) =>
  cmd
    .argument('<role>', 'role (name or ID)')
    .option('--user <user>', 'user (name or ID)')
    .option('--user-domain <user-domain>', 'domain of the user, to find it by name (name or ID)')
    .addOption(new Option('--group <group>', 'group (name or ID)').conflicts('user'))
    .option('--group-domain <group-domain>', 'domain of the group, to find it by name (name or ID)')
    .option('--inherited', 'the grant reaches the projects below the target, not the target itself')
    .option('--project <project>', 'project (name or ID)')
    .option('--project-domain <project-domain>', 'domain of the project, to find it by name (name or ID)')
    .addOption(new Option('--domain <domain>', 'domain (name or ID)').conflicts('project'))
    .addOption(new Option('--system <system>', 'the whole deployment (all)').conflicts(['project', 'domain', 'inherited']));

/** The role, grantee and target of `role add|remove`, looked up in openstackclient's order. */
async function grantOf(identity: IdentityClient, ref: string, o: GrantOptions, verb: string) {
  if (!(o.user || o.group) || !(o.project || o.domain || o.system))
    throw new ClientError(`Role not ${verb}: give --user or --group, and --project, --domain or --system.`);
  if (o.system !== undefined && o.system !== 'all') throw new ClientError(`Role not ${verb}: the only system is all.`);
  const role = await identity.roles.find(ref);
  const who: Grantee = o.user
    ? { user: (await findUser(identity, o.user, o.userDomain)).id }
    : { group: (await findGroup(identity, o.group!, o.groupDomain)).id };
  const target: GrantTarget = o.system
    ? { system: 'all' }
    : o.project
      ? { project: (await findProject(identity, o.project, o.projectDomain)).id }
      : { domain: (await identity.domains.find(o.domain!)).id };
  return { roleId: role.id, who, target, inherited: Boolean(o.inherited) };
}

export function register(role: Command): void {
  showOptions(role.command('create').description('create a new role').argument('<role-name>', 'new role name'))
    .option('--description <description>', 'role description')
    .option('--or-show', 'return the existing role of that name')
    .action(async (name: string, o: { description?: string; orShow?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const created = await createOrShow(
        o.orShow,
        () => identity.roles.create({ name, description: o.description }),
        () => identity.roles.find(name),
      );
      await printShow(cmd, fieldsOf(created));
    });

  listOptions(role.command('list').description('list roles')).action(async (_o, cmd: Command) => {
    const { identity } = await connect(cmd);
    await printList(
      cmd,
      ['ID', 'Name'],
      (await identity.roles.list()).map((r) => [r.id, r.name]),
    );
  });

  showOptions(role.command('show').description('show a role').argument('<role>', 'role (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { identity } = await connect(cmd);
    await printShow(cmd, fieldsOf(await identity.roles.find(ref)));
  });

  role
    .command('delete')
    .description('delete roles')
    .argument('<role...>', 'roles to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('role', 'roles', refs, async (ref) => identity.roles.delete((await identity.roles.find(ref)).id));
    });

  grantOptions(role.command('add').description('grant a role to a user or a group on a project or a domain')).action(
    async (ref: string, o: GrantOptions, cmd: Command) => {
      const { identity } = await connect(cmd);
      const g = await grantOf(identity, ref, o, 'added');
      await identity.grantTo(g.target, g.who, g.roleId, g.inherited);
    },
  );

  grantOptions(role.command('remove').description('take a role away from a user or a group on a project or a domain')).action(
    async (ref: string, o: GrantOptions, cmd: Command) => {
      const { identity } = await connect(cmd);
      const g = await grantOf(identity, ref, o, 'removed');
      await identity.revokeFrom(g.target, g.who, g.roleId, g.inherited);
    },
  );

  registerAssignments(role.command('assignment').description('role assignments'));
}
