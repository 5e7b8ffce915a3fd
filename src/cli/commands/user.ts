import type { Command } from 'commander';
import type { IdentityClient, User } from '../../client/identity.ts';
import { connect, createOrShow, deleteEach } from '../context.ts';
import { enableOptions, enabledOf } from '../options.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { domainFilter, findProject } from './project.ts';

/** A user by name or ID, its name looked up in `domain` when one is given. */
export async function findUser(identity: IdentityClient, ref: string, domain?: string): Promise<User> {
  return identity.users.find(ref, await domainFilter(identity, domain));
}

const domainOption = (cmd: Command) => cmd.option('--domain <domain>', 'domain owning the user (name or ID)');

interface Fields {
  project?: string;
  projectDomain?: string;
  password?: string;
  email?: string;
  description?: string;
  enable?: boolean;
  disable?: boolean;
}

const fieldOptions = (cmd: Command) =>
  enableOptions(cmd, 'the user')
    .option('--project <project>', 'default project (name or ID)')
    .option('--project-domain <project-domain>', 'domain of the default project (name or ID)')
    .option('--password <password>', 'password')
    .option('--email <email-address>', 'email address')
    .option('--description <description>', 'description');

export function register(user: Command): void {
  showOptions(
    fieldOptions(domainOption(user.command('create').description('create a new user').argument('<name>', 'new user name'))).option(
      '--or-show',
      'return the existing user of that name',
    ),
  ).action(async (name: string, o: Fields & { domain?: string; orShow?: boolean }, cmd: Command) => {
    const { identity } = await connect(cmd);
    const project = o.project ? await findProject(identity, o.project, o.projectDomain) : undefined;
    const filter = await domainFilter(identity, o.domain);
    const created = await createOrShow(
      o.orShow,
      () =>
        identity.users.create({
          name,
          ...filter,
          default_project_id: project?.id,
          password: o.password,
          email: o.email,
          description: o.description,
          enabled: enabledOf(o) ?? true,
        }),
      () => identity.users.find(name, filter),
    );
    await printShow(cmd, fieldsOf(created));
  });

  listOptions(
    domainOption(user.command('list').description('list users'))
      .option('--project <project>', 'only the users with a role on this project (name or ID)')
      .option('--group <group>', 'only the members of this group (name or ID, looked up in --domain)')
      .option('--long', 'list more fields'),
  ).action(async (o: { domain?: string; project?: string; group?: string; long?: boolean }, cmd: Command) => {
    const { identity } = await connect(cmd);
    let users: User[];
    if (o.group) {
      users = await identity.groupUsers((await identity.groups.find(o.group, await domainFilter(identity, o.domain))).id);
    } else if (o.project) {
      // As openstackclient does: the project's role assignments name its users.
      const project = await findProject(identity, o.project);
      const ids = new Set((await identity.roleAssignments({ 'scope.project.id': project.id })).flatMap((a) => (a.user ? [a.user.id] : [])));
      users = await Promise.all([...ids].map((id) => identity.users.get(id)));
    } else {
      users = await identity.users.list(await domainFilter(identity, o.domain));
    }
    const columns = o.long ? ['ID', 'Name', 'Project', 'Domain', 'Description', 'Email', 'Enabled'] : ['ID', 'Name'];
    await printList(
      cmd,
      columns,
      users.map((u) => (o.long ? [u.id, u.name, u.default_project_id ?? '', u.domain_id, u.description ?? '', u.email ?? '', u.enabled] : [u.id, u.name])),
    );
  });

  showOptions(domainOption(user.command('show').description('show a user').argument('<user>', 'user (name or ID)'))).action(
    async (ref: string, o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, fieldsOf(await findUser(identity, ref, o.domain)));
    },
  );

  fieldOptions(domainOption(user.command('set').description('change a user').argument('<user>', 'user (name or ID)')))
    .option('--name <name>', 'new name')
    .action(async (ref: string, o: Fields & { domain?: string; name?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const found = await findUser(identity, ref, o.domain);
      const project = o.project ? await findProject(identity, o.project, o.projectDomain) : undefined;
      const patch = { name: o.name, default_project_id: project?.id, password: o.password, email: o.email, description: o.description, enabled: enabledOf(o) };
      if (Object.values(patch).some((v) => v !== undefined)) await identity.users.update(found.id, patch);
    });

  user
    .command('password')
    .description("the current user's password (user password set)")
    .command('set')
    .description('change the password of the current user')
    .requiredOption('--password <new-password>', 'new user password')
    .requiredOption('--original-password <original-password>', 'original user password')
    .action(async (o: { password: string; originalPassword: string }, cmd: Command) => {
      const { identity, session } = await connect(cmd);
      await identity.changePassword(session.auth.user.id, o.originalPassword, o.password);
    });

  domainOption(user.command('delete').description('delete users').argument('<user...>', 'users to delete (name or ID)')).action(
    async (refs: string[], o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('user', 'users', refs, async (ref) => identity.users.delete((await findUser(identity, ref, o.domain)).id));
    },
  );
}
