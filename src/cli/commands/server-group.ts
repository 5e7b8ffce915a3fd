import { Option, type Command } from 'commander';
import { ComputeHostsClient, type ServerGroup } from '../../client/compute-hosts.ts';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { listColumn } from './compute-columns.ts';
import { integer } from './image-options.ts';

const POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/** A server group's fields as openstackclient shows them at 2.1: sorted, policies and members as lists. */
const fields = (g: ServerGroup) => ({
  id: g.id,
  members: listColumn(g.members ?? []),
  name: g.name,
  policies: listColumn(g.policies ?? []),
  project_id: g.project_id ?? null,
  user_id: g.user_id ?? null,
});

/** `server group create|list|show|delete`: Nova's server groups (os-server-groups). */
export function registerGroup(server: Command): void {
  const group = server.command('group').description('server groups (server group create|list|show|delete)');

  showOptions(group.command('create').description('create a server group').argument('<name>', 'new server group name'))
    .addOption(new Option('--policy <policy>', 'the placement policy of its servers').choices(POLICIES).default('affinity'))
    .action(async (name: string, o: { policy: string }, cmd: Command) => {
      // Soft policies came with 2.15, which this client does not ask for.
      if (o.policy.startsWith('soft-')) throw new ClientError(`--os-compute-api-version 2.15 or greater is required to support the ${o.policy} policy`);
      const { session } = await connect(cmd);
      await printShow(cmd, fields(await new ComputeHostsClient(session).createServerGroup(name, o.policy)));
    });

  listOptions(group.command('list').description('list server groups'))
    .option('--all-projects', 'the server groups of every project (admin only)')
    .option('--long', 'list additional fields in output')
    .option('--offset <offset>', 'index from which to start listing', integer)
    .option('--limit <limit>', 'the most server groups to list', integer)
    .action(async (o: { allProjects?: boolean; long?: boolean; offset?: number; limit?: number }, cmd: Command) => {
      const { session } = await connect(cmd);
      const groups = await new ComputeHostsClient(session).serverGroups({
        all_projects: o.allProjects ? 'True' : undefined,
        offset: o.offset ? String(o.offset) : undefined,
        limit: o.limit ? String(o.limit) : undefined,
      });
      const columns = ['ID', 'Name', 'Policies', ...(o.long ? ['Members', 'Project Id', 'User Id'] : [])];
      await printList(
        cmd,
        columns,
        groups.map((g) => {
          const f = fields(g);
          return [f.id, f.name, f.policies, ...(o.long ? [f.members, f.project_id, f.user_id] : [])];
        }),
      );
    });

  showOptions(group.command('show').description('show a server group').argument('<server-group>', 'server group (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, fields(await new ComputeHostsClient(session).findServerGroup(ref)));
    },
  );

  group
    .command('delete')
    .description('delete server groups')
    .argument('<server-group...>', 'server groups to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      let failed = 0;
      for (const ref of refs) {
        try {
          await client.deleteServerGroup((await client.findServerGroup(ref)).id);
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          failed++;
          process.stderr.write(`${err.message}\n`);
        }
      }
      if (failed) throw new ClientError(`${failed} of ${refs.length} server groups failed to delete.`);
    });
}
