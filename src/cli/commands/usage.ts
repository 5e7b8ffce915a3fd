import type { Command } from 'commander';
import { connect } from '../context.ts';
import { Float, Formatted, listOptions, printList } from '../output.ts';

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

/** `usage list`: every project's usage over a period (os-simple-tenant-usage), as openstackclient shows it at 2.1. */
export function register(usage: Command): void {
  listOptions(usage.command('list').description('list the resource usage of every project'))
    .option('--start <start>', 'usage range start date, e.g. 2012-01-20 (default: 4 weeks ago)')
    .option('--end <end>', 'usage range end date, e.g. 2012-01-20 (default: tomorrow)')
    .action(async (o: { start?: string; end?: string; format: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const now = Date.now();
      const start = o.start ? new Date(`${o.start}T00:00:00Z`) : new Date(now - 28 * 86_400_000);
      const end = o.end ? new Date(`${o.end}T00:00:00Z`) : new Date(now + 86_400_000);
      const { tenant_usages } = await session.request<{ tenant_usages: TenantUsage[] }>('GET', `${session.endpoint('compute')}/os-simple-tenant-usage`, {
        query: { start: isoformat(start), end: isoformat(end), detailed: '1' },
        headers: { 'openstack-api-version': 'compute 2.1' },
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
