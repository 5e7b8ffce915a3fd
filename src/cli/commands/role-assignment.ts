import { Option, type Command } from 'commander';
import type { RoleAssignment } from '../../client/identity.ts';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';
import { findProject } from './project.ts';
import { findUser } from './user.ts';
import { findGroup } from './group.ts';

interface ListOptions {
  user?: string;
  userDomain?: string;
  group?: string;
  groupDomain?: string;
  inherited?: boolean;
  project?: string;
  projectDomain?: string;
  domain?: string;
  system?: string;
  role?: string;
  names?: boolean;
  effective?: boolean;
  authUser?: boolean;
  authProject?: boolean;
}

const COLUMNS = ['Role', 'User', 'Group', 'Project', 'Domain', 'System', 'Inherited'];

/** One row as openstackclient shows it: IDs, or with --names `name@domain` for users and projects. */
function row(a: RoleAssignment, names: boolean): unknown[] {
  const scoped = (x: { id: string; name?: string; domain?: { name?: string } } | undefined) => (!x ? '' : names ? `${x.name}@${x.domain?.name}` : x.id);
  const domain = a.scope.domain;
  return [
    names ? (a.role.name ?? a.role.id) : a.role.id,
    scoped(a.user),
    scoped(a.group),
    scoped(a.scope.project),
    !domain ? '' : names ? (domain.name ?? domain.id) : domain.id,
    a.scope.system ? 'all' : '',
    a.scope['OS-INHERIT:inherited_to'] === 'projects',
  ];
}

export function registerAssignments(assignment: Command): void {
  listOptions(assignment.command('list').description('list role assignments'))
    .option('--user <user>', 'only the assignments of this user (name or ID)')
    .option('--user-domain <user-domain>', 'domain of the user, to find it by name (name or ID)')
    .addOption(new Option('--group <group>', 'only the assignments of this group (name or ID)').conflicts('user'))
    .option('--group-domain <group-domain>', 'domain of the group, to find it by name (name or ID)')
    .option('--inherited', 'only the assignments inherited by the projects below their target')
    .option('--project <project>', 'only the assignments on this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain of the project, to find it by name (name or ID)')
    .addOption(new Option('--domain <domain>', 'only the assignments on this domain (name or ID)').conflicts('project'))
    .addOption(new Option('--system <system>', 'only the assignments on the whole deployment (all)').conflicts(['project', 'domain']))
    .option('--role <role>', 'only the assignments of this role (name or ID)')
    .option('--names', 'show names instead of IDs')
    .option('--effective', "as users hold them: groups' grants per member, inherited ones per project, implied roles spelled out")
    .option('--auth-user', 'only the assignments of the current user')
    .option('--auth-project', 'only the assignments on the current project')
    .action(async (o: ListOptions, cmd: Command) => {
      const { identity, session } = await connect(cmd);
      const role = o.role ? await identity.roles.find(o.role) : undefined;
      const userId = o.authUser ? session.auth.user.id : o.user ? (await findUser(identity, o.user, o.userDomain)).id : undefined;
      const projectId = o.authProject ? session.auth.project?.id : o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined;
      const domainId = o.domain ? (await identity.domains.find(o.domain)).id : undefined;
      const groupId = o.group ? (await findGroup(identity, o.group, o.groupDomain)).id : undefined;
      const assignments = await identity.roleAssignments({
        'user.id': userId,
        'group.id': groupId,
        'scope.OS-INHERIT:inherited_to': o.inherited ? 'projects' : undefined,
        'role.id': role?.id,
        'scope.project.id': projectId,
        'scope.domain.id': domainId,
        'scope.system': o.system,
        effective: o.effective ? 'True' : undefined,
        include_names: o.names ? 'True' : undefined,
      });
      await printList(
        cmd,
        COLUMNS,
        assignments.map((a) => row(a, Boolean(o.names))),
      );
    });
}
