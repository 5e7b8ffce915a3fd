import type { Command } from 'commander';
import type { Ec2Credential } from '../../client/identity.ts';
import type { Cloud } from '../context.ts';
import { connect, deleteEach } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findUser } from './user.ts';
import { findProject } from './project.ts';

/** The user named by --user (in --user-domain), or the current one, as openstackclient picks it. */
const userOf = async ({ identity, session }: Cloud, o: { user?: string; userDomain?: string }) =>
  o.user ? (await findUser(identity, o.user, o.userDomain)).id : session.auth.user.id;

/** openstackclient shows tenant_id as project_id, and every field sorted by name. */
function shown(c: Ec2Credential): Record<string, unknown> {
  const { tenant_id, ...rest } = c;
  const fields: Record<string, unknown> = { ...rest, project_id: tenant_id };
  return Object.fromEntries(
    Object.keys(fields)
      .sort()
      .map((k) => [k, fields[k]]),
  );
}

const userOptions = (cmd: Command, what: string) =>
  cmd
    .option('--user <user>', `${what} (name or ID; default: the current user)`)
    .option('--user-domain <user-domain>', 'domain the user belongs to (name or ID)');

export function register(ec2: Command): void {
  const credentials = ec2.command('credentials').description('EC2 credentials: access keys and secrets for S3 and EC2 clients');

  showOptions(userOptions(credentials.command('create').description('create EC2 credentials'), 'create credentials for this user'))
    .option('--project <project>', 'create credentials in this project (name or ID; default: the current project)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (o: { user?: string; userDomain?: string; project?: string; projectDomain?: string }, cmd: Command) => {
      const cloud = await connect(cmd);
      const userId = await userOf(cloud, o);
      const projectId = o.project ? (await findProject(cloud.identity, o.project, o.projectDomain)).id : cloud.session.auth.project?.id;
      await printShow(cmd, shown(await cloud.identity.createEc2(userId, projectId ?? '')));
    });

  userOptions(
    credentials.command('delete').description('delete EC2 credentials').argument('<access-key...>', 'access keys of the credentials'),
    'delete credentials of this user',
  ).action(async (keys: string[], o: { user?: string; userDomain?: string }, cmd: Command) => {
    const cloud = await connect(cmd);
    const creds = cloud.identity.ec2(await userOf(cloud, o));
    await deleteEach('EC2 credentials', 'EC2 keys', keys, (access) => creds.delete(access));
  });

  listOptions(userOptions(credentials.command('list').description('list EC2 credentials'), 'only those of this user')).action(
    async (o: { user?: string; userDomain?: string }, cmd: Command) => {
      const cloud = await connect(cmd);
      const creds = await cloud.identity.ec2(await userOf(cloud, o)).list();
      await printList(
        cmd,
        ['Access', 'Secret', 'Project ID', 'User ID'],
        creds.map((c) => [c.access, c.secret, c.tenant_id, c.user_id]),
      );
    },
  );

  showOptions(
    userOptions(
      credentials.command('show').description('display EC2 credentials details').argument('<access-key>', 'access key of the credentials'),
      'show credentials of this user',
    ),
  ).action(async (access: string, o: { user?: string; userDomain?: string }, cmd: Command) => {
    const cloud = await connect(cmd);
    await printShow(cmd, shown(await cloud.identity.ec2(await userOf(cloud, o)).get(access)));
  });
}
