import type { Command } from 'commander';
import type { Group, IdentityClient } from '../../client/identity.ts';
import { ClientError } from '../../client/errors.ts';
import { connect, createOrShow, deleteEach } from '../context.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { domainFilter } from './project.ts';
import { findUser } from './user.ts';

/** A group by name or ID, its name looked up in `domain` when one is given. */
export async function findGroup(identity: IdentityClient, ref: string, domain?: string): Promise<Group> {
  return identity.groups.find(ref, await domainFilter(identity, domain));
}

const domainOption = (cmd: Command) => cmd.option('--domain <domain>', 'domain owning the group (name or ID)');
const memberOptions = (cmd: Command) =>
  cmd
    .option('--group-domain <group-domain>', 'domain of the group, to find it by name (name or ID)')
    .option('--user-domain <user-domain>', 'domain of the users, to find them by name (name or ID)');

export function register(group: Command): void {
  showOptions(domainOption(group.command('create').description('create a new group').argument('<group-name>', 'new group name')))
    .option('--description <description>', 'group description')
    .option('--or-show', 'return the existing group of that name')
    .action(async (name: string, o: { domain?: string; description?: string; orShow?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const filter = await domainFilter(identity, o.domain);
      const created = await createOrShow(
        o.orShow,
        () => identity.groups.create({ name, ...filter, description: o.description }),
        () => identity.groups.find(name, filter),
      );
      await printShow(cmd, fieldsOf(created));
    });

  listOptions(domainOption(group.command('list').description('list groups')))
    .option('--user <user>', 'only the groups this user is a member of (name or ID)')
    .option('--user-domain <user-domain>', 'domain of the user, to find it by name (name or ID)')
    .option('--long', 'list more fields')
    .action(async (o: { domain?: string; user?: string; userDomain?: string; long?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const groups = o.user
        ? await identity.userGroups((await findUser(identity, o.user, o.userDomain)).id)
        : await identity.groups.list(await domainFilter(identity, o.domain));
      await printList(
        cmd,
        o.long ? ['ID', 'Name', 'Domain ID', 'Description'] : ['ID', 'Name'],
        groups.map((g) => (o.long ? [g.id, g.name, g.domain_id, g.description] : [g.id, g.name])),
      );
    });

  showOptions(domainOption(group.command('show').description('show a group').argument('<group>', 'group (name or ID)'))).action(
    async (ref: string, o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, fieldsOf(await findGroup(identity, ref, o.domain)));
    },
  );

  domainOption(group.command('set').description('change a group').argument('<group>', 'group (name or ID)'))
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .action(async (ref: string, o: { domain?: string; name?: string; description?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const found = await findGroup(identity, ref, o.domain);
      await identity.groups.update(found.id, { name: o.name, description: o.description });
    });

  domainOption(group.command('delete').description('delete groups').argument('<group...>', 'groups to delete (name or ID)')).action(
    async (refs: string[], o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('group', 'groups', refs, async (ref) => identity.groups.delete((await findGroup(identity, ref, o.domain)).id));
    },
  );

  type MemberOptions = { groupDomain?: string; userDomain?: string };
  const members = async (cmd: Command, groupRef: string, userRefs: string[], o: MemberOptions) => {
    const { identity } = await connect(cmd);
    const g = await findGroup(identity, groupRef, o.groupDomain);
    return { identity, g, users: await Promise.all(userRefs.map((u) => findUser(identity, u, o.userDomain))) };
  };

  memberOptions(
    group
      .command('add')
      .description('add users to a group (group add user)')
      .argument('<user>', 'the word user')
      .argument('<group>', 'group (name or ID)')
      .argument('<users...>', 'users to add (name or ID)'),
  ).action(async (word: string, groupRef: string, userRefs: string[], o: MemberOptions, cmd: Command) => {
    if (word !== 'user') throw new ClientError(`unknown command: group add ${word}`);
    const { identity, g, users } = await members(cmd, groupRef, userRefs, o);
    for (const u of users) await identity.membership('PUT', g.id, u.id);
  });

  memberOptions(
    group
      .command('remove')
      .description('remove users from a group (group remove user)')
      .argument('<user>', 'the word user')
      .argument('<group>', 'group (name or ID)')
      .argument('<users...>', 'users to remove (name or ID)'),
  ).action(async (word: string, groupRef: string, userRefs: string[], o: MemberOptions, cmd: Command) => {
    if (word !== 'user') throw new ClientError(`unknown command: group remove ${word}`);
    const { identity, g, users } = await members(cmd, groupRef, userRefs, o);
    for (const u of users) await identity.membership('DELETE', g.id, u.id);
  });

  // As openstackclient: the answer goes to stdout when the user is a member, to stderr when not.
  memberOptions(
    group
      .command('contains')
      .description('whether a user is in a group (group contains user)')
      .argument('<user>', 'the word user')
      .argument('<group>', 'group (name or ID)')
      .argument('<member>', 'user (name or ID)'),
  ).action(async (word: string, groupRef: string, userRef: string, o: MemberOptions, cmd: Command) => {
    if (word !== 'user') throw new ClientError(`unknown command: group contains ${word}`);
    const { identity, g } = await members(cmd, groupRef, [], o);
    const u = await findUser(identity, userRef, o.userDomain);
    const isMember = await identity.membership('HEAD', g.id, u.id).then(
      () => true,
      (err: { status?: number }) => {
        if (err.status === 404 || err.status === 403) return false;
        throw err;
      },
    );
    if (isMember) process.stdout.write(`${userRef} in group ${groupRef}\n`);
    else process.stderr.write(`${userRef} not in group ${groupRef}\n`);
  });
}
