import type { Command } from 'commander';
import { connect } from '../context.ts';
import { ComputeClient } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { Float, Formatted, listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';

interface TenantUsage {
  tenant_id: string;
  server_usages?: unknown[];
  total_memory_mb_usage: number;
  total_vcpus_usage: number;
  total_local_gb_usage: number;
}

/** A day as %Y-%m-%d, which openstackclient takes and prints. */
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Python's datetime.isoformat() of a UTC time, as novaclient sends start and end. */
const isoformat = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');

/** A usage total rounded to two places, printed as Python prints a float; the value itself to machines. */
const hours = (v: number) => new Formatted(new Float(v), new Float(Number(v.toFixed(2))).toString());

/** The period openstackclient asks about: the days given, else from 4 weeks ago to tomorrow. */
function period(o: { start?: string; end?: string }): { start: Date; end: Date } {
  const now = Date.now();
  const day = (d: string) => {
    const parsed = /^\d{4}-\d\d-\d\d$/.test(d) ? new Date(`${d}T00:00:00Z`) : undefined;
    if (!parsed || Number.isNaN(parsed.getTime())) throw new ClientError(`time data '${d}' does not match format '%Y-%m-%d'`);
    return parsed;
  };
  return { start: o.start ? day(o.start) : new Date(now - 28 * 86_400_000), end: o.end ? day(o.end) : new Date(now + 86_400_000) };
}

/** `usage list` and `usage show`: projects' usage over a period (os-simple-tenant-usage), as openstackclient shows it. */
export function register(usage: Command): void {
  showOptions(usage.command('show').description('show the resource usage of one project'))
    .option('--project <project>', 'project to show the usage of (name or ID; default: the current one)')
    .option('--start <start>', 'usage range start date, e.g. 2012-01-20 (default: 4 weeks ago)')
    .option('--end <end>', 'usage range end date, e.g. 2012-01-20 (default: tomorrow)')
    .action(async (o: { project?: string; start?: string; end?: string; format: string }, cmd: Command) => {
      const { start, end } = period(o);
      const { session, identity } = await connect(cmd);
      const project = o.project ? (await findProject(identity, o.project)).id : session.auth.project?.id;
      if (!project) throw new ClientError('The token is not scoped to a project: give --project');
      const compute = new ComputeClient(session);
      const { tenant_usage: u } = await compute.request<{ tenant_usage: Partial<TenantUsage> }>(
        'GET',
        `${compute.url}/os-simple-tenant-usage/${encodeURIComponent(project)}`,
        { query: { start: isoformat(start), end: isoformat(end) } },
      );
      if (o.format === 'table') process.stdout.write(`Usage from ${day(start)} to ${day(end)} on project ${project}: \n`);
      // A field the answer lacks prints as '' (openstackclient reads it as a missing attribute).
      const total = (v: number | undefined) => (v === undefined ? '' : hours(v));
      await printShow(cmd, {
        Project: u.tenant_id ?? '',
        Servers: u.server_usages ? new Formatted(u.server_usages, String(u.server_usages.length)) : '',
        'RAM MB-Hours': total(u.total_memory_mb_usage),
        'CPU Hours': total(u.total_vcpus_usage),
        'Disk GB-Hours': total(u.total_local_gb_usage),
      });
    });

  listOptions(usage.command('list').description('list the resource usage of every project'))
    .option('--start <start>', 'usage range start date, e.g. 2012-01-20 (default: 4 weeks ago)')
    .option('--end <end>', 'usage range end date, e.g. 2012-01-20 (default: tomorrow)')
    .action(async (o: { start?: string; end?: string; format: string }, cmd: Command) => {
      const { start, end } = period(o);
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      const { tenant_usages } = await compute.request<{ tenant_usages: TenantUsage[] }>('GET', `${compute.url}/os-simple-tenant-usage`, {
        query: { start: isoformat(start), end: isoformat(end), detailed: '1' },
      });
      // Projects by name where the caller may list them, else by ID, as openstackclient does.
      const names = new Map<string, string>();
      try {
        for (const p of await identity.projects.list()) names.set(p.id, p.name);
      } catch {
        /* the IDs stand */
      }
      if (o.format === 'table' && tenant_usages.length) process.stdout.write(`Usage from ${day(start)} to ${day(end)}: \n`);
      await printList(
        cmd,
        ['Project', 'Servers', 'RAM MB-Hours', 'CPU Hours', 'Disk GB-Hours'],
        tenant_usages.map((u) => [
          new Formatted(u.tenant_id, u.tenant_id ? (names.get(u.tenant_id) ?? u.tenant_id) : ''),
          new Formatted(u.server_usages ?? [], String((u.server_usages ?? []).length)),
          hours(u.total_memory_mb_usage),
          hours(u.total_vcpus_usage),
          hours(u.total_local_gb_usage),
        ]),
      );
    });
}
