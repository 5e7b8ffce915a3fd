import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';

export function register(endpoint: Command): void {
  listOptions(endpoint.command('list').description('list endpoints'))
    .option('--service <service>', 'only the endpoints of this service (type, name or ID)')
    .option('--interface <interface>', 'only the endpoints of this interface: public, internal or admin')
    .option('--region <region-id>', 'only the endpoints of this region')
    .action(async (o: { service?: string; interface?: string; region?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const services = await identity.services.list();
      let serviceId: string | undefined;
      if (o.service) {
        const matches = services.filter((s) => s.id === o.service || s.type === o.service || s.name === o.service);
        if (matches.length > 1) throw new ClientError(`More than one service exists with the name or type '${o.service}'.`);
        if (!matches[0]) throw new ClientError(`No service with a type, name or ID of '${o.service}' exists.`);
        serviceId = matches[0].id;
      }
      const endpoints = await identity.endpoints.list({ service_id: serviceId, interface: o.interface, region_id: o.region });
      const byId = new Map(services.map((s) => [s.id, s]));
      await printList(
        cmd,
        ['ID', 'Region', 'Service Name', 'Service Type', 'Enabled', 'Interface', 'URL'],
        endpoints.map((e) => [
          e.id,
          e.region_id ?? e.region,
          byId.get(e.service_id)?.name ?? '',
          byId.get(e.service_id)?.type ?? '',
          e.enabled,
          e.interface,
          e.url,
        ]),
      );
    });
}
