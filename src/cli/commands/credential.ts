import type { Command } from 'commander';
import type { IdentityClient } from '../../client/identity.ts';
import { connect, deleteEach } from '../context.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { findUser } from './user.ts';
import { findProject } from './project.ts';

const projectIdOf = async (identity: IdentityClient, ref: string | undefined) => (ref ? (await findProject(identity, ref)).id : undefined);

export function register(credential: Command): void {
  showOptions(
    credential
      .command('create')
      .description('create a new credential')
      .argument('<user>', 'user that owns the credential (name or ID)')
      .argument('<data>', 'new credential data'),
  )
    .option('--type <type>', 'new credential type: cert, ec2, totp and so on', 'cert')
    .option('--project <project>', 'project which limits the scope of the credential (name or ID)')
    .action(async (user: string, data: string, o: { type: string; project?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const userId = (await findUser(identity, user)).id;
      const created = await identity.credentials.create({ user_id: userId, type: o.type, blob: data, project_id: await projectIdOf(identity, o.project) });
      await printShow(cmd, fieldsOf(created));
    });

  credential
    .command('delete')
    .description('delete credentials')
    .argument('<credential-id...>', 'IDs of the credentials to delete')
    .action(async (ids: string[], _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('credential', 'credential', ids, (id) => identity.credentials.delete(id));
    });

  listOptions(credential.command('list').description('list credentials'))
    .option('--user <user>', 'only the credentials of this user (name or ID)')
    .option('--user-domain <user-domain>', 'domain the user belongs to (name or ID)')
    .option('--type <type>', 'only the credentials of this type: cert, ec2, totp and so on')
    .action(async (o: { user?: string; userDomain?: string; type?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const userId = o.user ? (await findUser(identity, o.user, o.userDomain)).id : undefined;
      const creds = await identity.credentials.list({ ...(userId ? { user_id: userId } : {}), ...(o.type ? { type: o.type } : {}) });
      await printList(
        cmd,
        ['ID', 'Type', 'User ID', 'Data', 'Project ID'],
        creds.map((c) => [c.id, c.type, c.user_id, c.blob, c.project_id]),
      );
    });

  credential
    .command('set')
    .description('set credential properties')
    .argument('<credential-id>', 'ID of the credential to change')
    .requiredOption('--user <user>', 'user that owns the credential (name or ID)')
    .requiredOption('--type <type>', 'new credential type: cert, ec2, totp and so on')
    .requiredOption('--data <data>', 'new credential data')
    .option('--project <project>', 'project which limits the scope of the credential (name or ID)')
    .action(async (id: string, o: { user: string; type: string; data: string; project?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const userId = (await findUser(identity, o.user)).id;
      const projectId = await projectIdOf(identity, o.project);
      await identity.credentials.update(id, { user_id: userId, type: o.type, blob: o.data, ...(projectId ? { project_id: projectId } : {}) });
    });

  showOptions(credential.command('show').description('display credential details').argument('<credential-id>', 'ID of the credential to display')).action(
    async (id: string, _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, fieldsOf(await identity.credentials.get(id)));
    },
  );
}
