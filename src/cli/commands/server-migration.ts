import type { Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { findProject } from './project.ts';
import { findUser } from './user.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';

// `server migration list|show|abort`: Nova's moves as openstackclient shows them, its columns and
// refusals following the microversion in use.

/** openstackclient's refusal of an option the microversion in use does not have. */
const needs = (version: string, what: string) => new ClientError(`--os-compute-api-version ${version} or greater is required to ${what}`);

/** The columns of a migration list at that microversion (from 2.80 a project's and a user's when
 * the list is filtered by them), and the field each shows. */
async function listColumns(compute: ComputeClient, by: { project: boolean; user: boolean }): Promise<[string, string][]> {
  const cols: [string, string][] = [
    ['Source Node', 'source_node'],
    ['Dest Node', 'dest_node'],
    ['Source Compute', 'source_compute'],
    ['Dest Compute', 'dest_compute'],
    ['Dest Host', 'dest_host'],
    ['Status', 'status'],
    ['Server UUID', 'instance_uuid'],
    ['Old Flavor', 'old_instance_type_id'],
    ['New Flavor', 'new_instance_type_id'],
    ['Created At', 'created_at'],
    ['Updated At', 'updated_at'],
  ];
  if (await compute.atLeast('2.59')) cols.unshift(['UUID', 'uuid']);
  if (await compute.atLeast('2.23')) {
    cols.unshift(['Id', 'id']);
    cols.splice(cols.length - 2, 0, ['Type', 'migration_type']);
  }
  if (await compute.atLeast('2.80')) {
    if (by.project) cols.splice(cols.length - 2, 0, ['Project', 'project_id']);
    if (by.user) cols.splice(cols.length - 2, 0, ['User', 'user_id']);
  }
  return cols;
}

/** A migration named by its id, or by its UUID (2.59) among the server's under way. */
async function migrationId(compute: ComputeClient, serverId: string, ref: string, what: string): Promise<string> {
  if (/^\d+$/.test(ref)) return ref;
  if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(ref)) throw new ClientError('The <migration> argument must be an ID or UUID');
  if (!(await compute.atLeast('2.59'))) throw needs('2.59', what);
  const found = (await compute.serverMigrations(serverId)).find((m) => m.uuid === ref);
  if (!found) throw new ClientError(`In-progress live migration ${ref} is not found for server ${serverId}.`);
  return String(found.id);
}

export function registerMigrations(server: Command): void {
  const migration = server.command('migration').description("servers' moves between hosts (server migration list|show|abort)");
  listOptions(migration.command('list').description('list migrations'))
    .option('--server <server>', 'migrations of this server (name or ID)')
    .option('--host <host>', 'migrations from or to this host')
    .option('--status <status>', 'migrations in this status')
    .option('--type <type>', 'evacuation, live-migration, cold-migration or resize')
    .option('--marker <marker>', 'the migration (UUID) the page starts after (2.59)')
    .option('--limit <limit>', 'the most migrations to list (2.59)')
    .option('--changes-since <time>', 'migrations changed since then (2.59)')
    .option('--changes-before <time>', 'migrations changed before then (2.66)')
    .option('--project <project>', "the project's migrations (2.80)")
    .option('--user <user>', "the user's migrations (2.80)")
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      const types = ['evacuation', 'live-migration', 'cold-migration', 'resize'];
      if (o.type && !types.includes(o.type))
        throw new ClientError(`argument --type: invalid choice: '${o.type}' (choose from ${types.map((t) => `'${t}'`).join(', ')})`);
      const query: Record<string, string | undefined> = { host: o.host, status: o.status };
      if (o.server) query.instance_uuid = (await compute.findServer(o.server, { style: 'nova' })).id;
      if (o.type) query.migration_type = o.type === 'cold-migration' ? 'migration' : o.type;
      for (const [option, param, version] of [
        ['marker', 'marker', '2.59'],
        ['limit', 'limit', '2.59'],
        ['changesSince', 'changes-since', '2.59'],
        ['changesBefore', 'changes-before', '2.66'],
      ] as const) {
        if (o[option] === undefined) continue;
        if (!(await compute.atLeast(version))) throw needs(version, `support the --${param} option`);
        query[param] = o[option];
      }
      for (const [option, param] of [
        ['project', 'project_id'],
        ['user', 'user_id'],
      ] as const) {
        if (o[option] === undefined) continue;
        if (!(await compute.atLeast('2.80'))) throw needs('2.80', `support the --${option} option`);
        query[param] = option === 'project' ? (await findProject(identity, o[option]!)).id : (await findUser(identity, o[option]!)).id;
      }
      const cols = await listColumns(compute, { project: o.project !== undefined, user: o.user !== undefined });
      const rows = await compute.migrations(query);
      await printList(
        cmd,
        cols.map(([h]) => h),
        rows.map((m) => cols.map(([, f]) => m[f] ?? null)),
      );
    });

  showOptions(
    migration
      .command('show')
      .description('show a live migration under way')
      .argument('<server>', 'server (name or ID)')
      .argument('<migration>', 'migration (ID or UUID)'),
  ).action(async (ref: string, migrationRef: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const compute = new ComputeClient(session);
    if (!(await compute.atLeast('2.24'))) throw needs('2.24', 'support the server migration show command');
    const s = await compute.findServer(ref, { style: 'nova' });
    const m = await compute.serverMigration(s.id, await migrationId(compute, s.id, migrationRef, 'retrieve server migrations by UUID'));
    const fields: [string, string][] = [
      ['ID', 'id'],
      ['Server UUID', 'server_uuid'],
      ['Status', 'status'],
      ['Source Compute', 'source_compute'],
      ['Source Node', 'source_node'],
      ['Dest Compute', 'dest_compute'],
      ['Dest Host', 'dest_host'],
      ['Dest Node', 'dest_node'],
      ['Memory Total Bytes', 'memory_total_bytes'],
      ['Memory Processed Bytes', 'memory_processed_bytes'],
      ['Memory Remaining Bytes', 'memory_remaining_bytes'],
      ['Disk Total Bytes', 'disk_total_bytes'],
      ['Disk Processed Bytes', 'disk_processed_bytes'],
      ['Disk Remaining Bytes', 'disk_remaining_bytes'],
      ['Created At', 'created_at'],
      ['Updated At', 'updated_at'],
      ...((await compute.atLeast('2.59')) ? ([['UUID', 'uuid']] as [string, string][]) : []),
      ...((await compute.atLeast('2.80'))
        ? ([
            ['User ID', 'user_id'],
            ['Project ID', 'project_id'],
          ] as [string, string][])
        : []),
    ];
    await printShow(cmd, Object.fromEntries(fields.map(([h, f]) => [h, m[f] ?? null])));
  });

  migration
    .command('abort')
    .description('abort a live migration under way')
    .argument('<server>', 'server (name or ID)')
    .argument('<migration>', 'migration (ID or UUID)')
    .action(async (ref: string, migrationRef: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      if (!(await compute.atLeast('2.24'))) throw needs('2.24', 'support the server migration abort command');
      const s = await compute.findServer(ref, { style: 'nova' });
      await compute.abortServerMigration(s.id, await migrationId(compute, s.id, migrationRef, 'abort server migrations by UUID'));
    });
}
