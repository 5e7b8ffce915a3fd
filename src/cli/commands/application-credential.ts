import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import type { ApplicationCredential, ApplicationCredentialFields } from '../../client/identity.ts';
import { connect, deleteEach } from '../context.ts';
import { collect } from '../options.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { findUser } from './user.ts';

/** --access-rules: a JSON list, or the name of a file that holds one, as openstackclient reads it. */
function accessRules(value: string): ApplicationCredentialFields['access_rules'] {
  try {
    return JSON.parse(value);
  } catch {
    try {
      return JSON.parse(readFileSync(value, 'utf8'));
    } catch {
      throw new ClientError('Access rules is not valid JSON string or file does not exist.');
    }
  }
}

/** openstackclient shows the roles as their names, space separated, in every format. */
const shown = (c: ApplicationCredential) => fieldsOf({ ...c, roles: c.roles.map((r) => r.name).join(' ') });

export function register(application: Command): void {
  const credential = application.command('credential').description('application credentials of the current user');

  showOptions(credential.command('create').description('create an application credential').argument('<name>', 'name of the application credential'))
    .option('--secret <secret>', 'secret to use (default: one is generated)')
    .option('--role <role>', 'a role of the current token to delegate (name or ID; repeat for more; default: all)', collect)
    .option('--expiration <expiration>', 'expiry, YYYY-MM-DDTHH:MM:SS in UTC (default: never)')
    .option('--description <description>', 'description')
    .option('--unrestricted', 'allow it to create and delete other application credentials and trusts')
    .option('--restricted', 'forbid that (the default)')
    .option(
      '--access-rules <access-rules>',
      'JSON list (or a file holding one) of {"service", "method", "path"} the credential may call, or {"id"} of existing rules (default: any)',
    )
    .action(
      async (
        name: string,
        o: { secret?: string; role?: string[]; expiration?: string; description?: string; unrestricted?: boolean; restricted?: boolean; accessRules?: string },
        cmd: Command,
      ) => {
        if (o.expiration && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(o.expiration)) {
          throw new ClientError(`--expiration ${o.expiration} is not of the form YYYY-MM-DDTHH:MM:SS`);
        }
        const { identity, session } = await connect(cmd);
        // Only roles of the current token can be delegated, so they are looked up there.
        const roles = o.role?.map((ref) => {
          const held = session.auth.roles?.find((r) => r.id === ref || r.name === ref);
          return held ? { id: held.id } : { name: ref };
        });
        const created = await identity.applicationCredentials(session.auth.user.id).create({
          name,
          secret: o.secret,
          description: o.description,
          expires_at: o.expiration,
          unrestricted: o.unrestricted ? true : o.restricted ? false : undefined,
          roles,
          access_rules: o.accessRules === undefined ? undefined : accessRules(o.accessRules),
        });
        await printShow(cmd, shown(created));
      },
    );

  listOptions(credential.command('list').description('list application credentials'))
    .option('--user <user>', 'those of this user (name or ID; default: the current user)')
    .action(async (o: { user?: string }, cmd: Command) => {
      const { identity, session } = await connect(cmd);
      const userId = o.user ? (await findUser(identity, o.user)).id : session.auth.user.id;
      const creds = await identity.applicationCredentials(userId).list();
      await printList(
        cmd,
        ['ID', 'Name', 'Project ID', 'Description', 'Expires At'],
        creds.map((c) => [c.id, c.name, c.project_id, c.description, c.expires_at]),
      );
    });

  showOptions(credential.command('show').description('show an application credential').argument('<application-credential>', 'name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { identity, session } = await connect(cmd);
      await printShow(cmd, shown(await identity.applicationCredentials(session.auth.user.id).find(ref)));
    },
  );

  credential
    .command('delete')
    .description('delete application credentials')
    .argument('<application-credential...>', 'names or IDs')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { identity, session } = await connect(cmd);
      const creds = identity.applicationCredentials(session.auth.user.id);
      await deleteEach('application credential', 'application credentials', refs, async (ref) => creds.delete((await creds.find(ref)).id));
    });
}
