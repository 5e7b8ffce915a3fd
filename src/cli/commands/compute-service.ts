import type { Command } from 'commander';
import { ComputeHostsClient } from '../../client/compute-hosts.ts';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';

/** `compute service list|set`: Nova's services (os-services), as openstackclient shows and changes them at 2.1. */
export function register(compute: Command): void {
  const service = compute.command('service').description('compute services (compute service list|set)');
  listOptions(service.command('list').description('list compute services'))
    .option('--host <host>', 'list services on this host')
    .option('--service <service>', 'list only this service binary (e.g. nova-compute)')
    .option('--long', 'list additional fields in output')
    .action(async (o: { host?: string; service?: string; long?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const services = await new ComputeHostsClient(session).services({ host: o.host, binary: o.service });
      const columns = ['ID', 'Binary', 'Host', 'Zone', 'Status', 'State', 'Updated At'];
      if (o.long) columns.push('Disabled Reason');
      await printList(
        cmd,
        columns,
        services.map((s) => [s.id, s.binary, s.host, s.zone, s.status, s.state, s.updated_at, ...(o.long ? [s.disabled_reason] : [])]),
      );
    });

  service
    .command('set')
    .description('enable or disable a compute service')
    .argument('<host>', 'name of the host')
    .argument('<service>', 'service binary (e.g. nova-compute)')
    .option('--enable', 'enable the service')
    .option('--disable', 'disable the service')
    .option('--disable-reason <reason>', 'why the service is disabled (with --disable)')
    .action(async (host: string, binary: string, o: { enable?: boolean; disable?: boolean; disableReason?: string }, cmd: Command) => {
      if (o.enable && o.disable) throw new ClientError('argument --disable: not allowed with argument --enable');
      if (o.disableReason && !o.disable) throw new ClientError('Cannot specify option --disable-reason without --disable specified.');
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      if (o.enable) await client.updateService('enable', { host, binary });
      if (o.disable) {
        if (o.disableReason) await client.updateService('disable-log-reason', { host, binary, disabled_reason: o.disableReason });
        else await client.updateService('disable', { host, binary });
      }
    });
}
