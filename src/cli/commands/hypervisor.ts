import type { Command } from 'commander';
import { ComputeHostsClient } from '../../client/compute-hosts.ts';
import { connect } from '../context.ts';
import { Formatted, listOptions, printList, printShow, showOptions, text } from '../output.ts';
import { dictColumn, sortedFields } from './compute-columns.ts';

/** `hypervisor list|show|stats show`, as openstackclient shows Nova's os-hypervisors. */
export function register(hypervisor: Command): void {
  listOptions(hypervisor.command('list').description('list hypervisors'))
    .option('--long', 'list additional fields in output')
    .action(async (o: { long?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await new ComputeHostsClient(session).hypervisors(true);
      const columns = ['ID', 'Hypervisor Hostname', 'Hypervisor Type', 'Host IP', 'State'];
      if (o.long) columns.push('vCPUs Used', 'vCPUs', 'Memory MB Used', 'Memory MB');
      const fields = ['id', 'hypervisor_hostname', 'hypervisor_type', 'host_ip', 'state', 'vcpus_used', 'vcpus', 'memory_mb_used', 'memory_mb'];
      await printList(
        cmd,
        columns,
        // From 2.88 the usage fields are gone: blank, as openstackclient prints a missing one.
        found.map((h) => fields.slice(0, columns.length).map((f) => (f in h ? h[f] : ''))),
      );
    });

  showOptions(hypervisor.command('show').description("show a hypervisor's details").argument('<hypervisor>', 'hypervisor (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      const { service, ...h } = await client.findHypervisor(ref);
      const info: Record<string, unknown> = { ...h };
      // The aggregates the hypervisor's host belongs to, by name, which openstackclient prints as a Python list.
      const member = (await client.aggregates()).filter((a) => a.hosts.includes(service.host)).map((a) => a.name);
      info.aggregates = new Formatted(member, text(member));
      const m = /\s*(.+)\sup\s+(.+),\s+(.+)\susers?,\s+load average:\s(.+)/.exec(await client.hypervisorUptime(h.id));
      if (m) Object.assign(info, { host_time: m[1], uptime: m[2], users: m[3], load_average: m[4] });
      info.service_id = service.id;
      info.service_host = service.host;
      // Before 2.28 cpu_info is a JSON string, which openstackclient parses; 2.88 dropped it.
      if ('cpu_info' in h) {
        const cpu = typeof h.cpu_info === 'string' && h.cpu_info ? JSON.parse(h.cpu_info) : (h.cpu_info ?? {});
        info.cpu_info = dictColumn(cpu as Record<string, unknown>);
      }
      await printShow(cmd, sortedFields(info));
    },
  );

  showOptions(hypervisor.command('stats').description('hypervisor statistics').command('show').description('the totals of all hypervisors')).action(
    async (_o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, sortedFields(await new ComputeHostsClient(session).hypervisorStatistics()));
    },
  );
}
