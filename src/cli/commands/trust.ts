import type { Command } from 'commander';
import { ClientError, HttpError } from '../../client/errors.ts';
import type { IdentityClient, Trust } from '../../client/identity.ts';
import { connect, deleteEach } from '../context.ts';
import { collect } from '../options.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { domainFilter } from './project.ts';

/** openstackclient shows a trust's fields sorted, its roles as their names, space separated. */
const shown = (t: Trust) => {
  const { roles_links: _, ...rest } = t;
  return fieldsOf({ ...rest, roles: (t.roles ?? []).map((r) => r.name).join(' ') });
};

/**
 * A user or project named by a caller who may not look it up (a trustor rarely may list users):
 * as openstackclient does, the reference is then taken for its ID.
 */
async function idOf(find: () => Promise<{ id: string }>, ref: string): Promise<string> {
  try {
    return (await find()).id;
  } catch (err) {
    if (err instanceof HttpError && err.status === 403) return ref;
    throw err;
  }
}

/** A role to delegate: by ID when the caller may look roles up, otherwise by the name given. */
async function roleRef(identity: IdentityClient, ref: string): Promise<{ id?: string; name?: string }> {
  try {
    return { id: (await identity.roles.find(ref)).id };
  } catch (err) {
    if (err instanceof HttpError && err.status === 403) return { name: ref };
    throw err;
  }
}

export function register(trust: Command): void {
  showOptions(
    trust
      .command('create')
      .description('create a new trust')
      .argument('<trustor-user>', 'user that is delegating authorization (name or ID)')
      .argument('<trustee-user>', 'user that is assuming authorization (name or ID)'),
  )
    .requiredOption('--project <project>', 'project being delegated (name or ID)')
    .option('--role <role>', 'role to delegate (name or ID; repeat for more)', collect)
    .option('--impersonate', 'tokens generated from the trust will represent the trustor')
    .option('--expiration <expiration>', 'expiry, YYYY-MM-DDTHH:MM:SS in UTC (default: never)')
    .option('--project-domain <project-domain>', 'domain of the project (name or ID)')
    .option('--trustor-domain <trustor-domain>', 'domain of the trustor (name or ID)')
    .option('--trustee-domain <trustee-domain>', 'domain of the trustee (name or ID)')
    .action(
      async (
        trustor: string,
        trustee: string,
        o: {
          project: string;
          role?: string[];
          impersonate?: boolean;
          expiration?: string;
          projectDomain?: string;
          trustorDomain?: string;
          trusteeDomain?: string;
        },
        cmd: Command,
      ) => {
        if (o.expiration && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(o.expiration)) {
          throw new ClientError(`--expiration ${o.expiration} is not of the form YYYY-MM-DDTHH:MM:SS`);
        }
        const { identity } = await connect(cmd);
        const user = async (ref: string, domain?: string) => idOf(async () => identity.users.find(ref, await domainFilter(identity, domain)), ref);
        const created = await identity.trusts.create({
          trustor_user_id: await user(trustor, o.trustorDomain),
          trustee_user_id: await user(trustee, o.trusteeDomain),
          project_id: await idOf(async () => identity.projects.find(o.project, await domainFilter(identity, o.projectDomain)), o.project),
          impersonation: Boolean(o.impersonate),
          roles: await Promise.all((o.role ?? []).map((r) => roleRef(identity, r))),
          expires_at: o.expiration,
        });
        await printShow(cmd, shown(created));
      },
    );

  trust
    .command('delete')
    .description('delete trusts')
    .argument('<trust...>', 'trusts to delete (ID)')
    .action(async (ids: string[], _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('trust', 'trusts', ids, (id) => identity.trusts.delete(id));
    });

  listOptions(trust.command('list').description('list trusts')).action(async (_o, cmd: Command) => {
    const { identity } = await connect(cmd);
    const trusts = await identity.trusts.list();
    await printList(
      cmd,
      ['ID', 'Expires At', 'Impersonation', 'Project ID', 'Trustee User ID', 'Trustor User ID'],
      trusts.map((t) => [t.id, t.expires_at, t.impersonation, t.project_id, t.trustee_user_id, t.trustor_user_id]),
    );
  });

  showOptions(trust.command('show').description('show a trust').argument('<trust>', 'trust (ID)')).action(async (id: string, _o, cmd: Command) => {
    const { identity } = await connect(cmd);
    await printShow(cmd, shown(await identity.trusts.get(id)));
  });
}
