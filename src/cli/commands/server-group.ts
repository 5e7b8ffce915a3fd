import { InvalidArgumentError, Option, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { ComputeHostsClient, type ServerGroup } from '../../client/compute-hosts.ts';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { dictColumn, listColumn, sortedFields } from './compute-columns.ts';
import { integer } from './image-options.ts';

const POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/** A server group's fields as openstackclient shows them, sorted, members as a list: before 2.64
 * its list of policies, from 2.64 its one policy and its rules. */
const fields = (g: ServerGroup): Record<string, unknown> =>
  sortedFields({
    id: g.id,
    members: listColumn(g.members ?? []),
    name: g.name,
    ...('policy' in g ? { policy: g.policy, rules: dictColumn(g.rules ?? {}) } : { policies: listColumn(g.policies ?? []) }),
    project_id: g.project_id ?? null,
    user_id: g.user_id ?? null,
  });

/** One --rule key=value: max_server_per_host, the one rule Nova knows, is a number. */
function rule(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`Expected 'key=value' type, but got: ${value}`);
  return { ...previous, [value.slice(0, at)]: Number(value.slice(at + 1)) };
}

/** `server group create|list|show|delete`: Nova's server groups (os-server-groups). */
export function registerGroup(server: Command): void {
  const group = server.command('group').description('server groups (server group create|list|show|delete)');

  showOptions(group.command('create').description('create a server group').argument('<name>', 'new server group name'))
    .addOption(new Option('--policy <policy>', 'the placement policy of its servers').choices(POLICIES).default('affinity'))
    .option('--rule <key=value>', 'a rule of the policy, e.g. max_server_per_host=2 for anti-affinity (microversion 2.64)', rule)
    .action(async (name: string, o: { policy: string; rule?: Record<string, number> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      // Soft policies came with 2.15, rules with 2.64.
      if (o.policy.startsWith('soft-') && !(await compute.atLeast('2.15')))
        throw new ClientError(`--os-compute-api-version 2.15 or greater is required to support the ${o.policy} policy`);
      if (o.rule && !(await compute.atLeast('2.64'))) throw new ClientError('--os-compute-api-version 2.64 or greater is required to support the --rule option');
      await printShow(cmd, fields(await new ComputeHostsClient(session).createServerGroup(name, o.policy, o.rule)));
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
      const single = await new ComputeClient(session).atLeast('2.64');
      const columns = ['ID', 'Name', single ? 'Policy' : 'Policies', ...(o.long ? ['Members', 'Project Id', 'User Id'] : [])];
      await printList(
        cmd,
        columns,
        groups.map((g) => {
          const f = fields(g);
          return [f.id, f.name, 'policy' in f ? f.policy : f.policies, ...(o.long ? [f.members, f.project_id, f.user_id] : [])];
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
