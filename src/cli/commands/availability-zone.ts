import type { Command } from 'commander';
import { ComputeHostsClient, type AvailabilityZone } from '../../client/compute-hosts.ts';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';

type Row = [name: string, status: string, resource: string, host: string, service: string, serviceStatus: string];

const zoneStatus = (az: { zoneState: { available: boolean } }) => (az.zoneState.available ? 'available' : 'not available');

/** A compute zone: one row, or with --long one per service of each of its hosts, as openstackclient shows them. */
function computeRows(az: AvailabilityZone, long: boolean): Row[] {
  const row: Row = [az.zoneName, zoneStatus(az), '', '', '', ''];
  if (!long || !az.hosts || !Object.keys(az.hosts).length) return [row];
  return Object.entries(az.hosts).flatMap(([host, services]) =>
    Object.entries(services).map(([name, s]): Row => [
      az.zoneName,
      row[1],
      '',
      host,
      name,
      `${s.active ? 'enabled' : 'disabled'} ${s.available ? ':-)' : 'XXX'} ${s.updated_at ?? 'None'}`,
    ]),
  );
}

/** `availability zone list`: the zones of compute, block storage and networking (all by default). */
export function register(availability: Command): void {
  listOptions(availability.command('zone').description('availability zones').command('list').description('list availability zones and their status'))
    .option('--compute', 'list compute availability zones')
    .option('--network', 'list network availability zones')
    .option('--volume', 'list volume availability zones')
    .option('--long', 'list additional fields in output')
    .action(async (o: { compute?: boolean; network?: boolean; volume?: boolean; long?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const all = !o.compute && !o.network && !o.volume;
      const rows: Row[] = [];
      if (o.compute || all) {
        for (const az of await new ComputeHostsClient(session).availabilityZones(true)) rows.push(...computeRows(az, !!o.long));
      }
      if ((o.volume || all) && session.catalog.some((s) => s.type === 'block-storage' || s.type === 'volumev3')) {
        const body = await session.request<{ availabilityZoneInfo: AvailabilityZone[] }>('GET', `${session.endpoint('block-storage')}/os-availability-zone`);
        for (const az of body.availabilityZoneInfo) rows.push([az.zoneName, zoneStatus(az), '', '', '', '']);
      }
      if ((o.network || all) && session.catalog.some((s) => s.type === 'network')) {
        const url = `${session.endpoint('network').replace(/\/v2\.0$/, '')}/v2.0/availability_zones`;
        const body = await session.request<{ availability_zones: { name: string; state: string; resource: string }[] }>('GET', url);
        for (const az of body.availability_zones) rows.push([az.name, az.state === 'unavailable' ? 'not available' : az.state, az.resource, '', '', '']);
      }
      if (o.long) return printList(cmd, ['Zone Name', 'Zone Status', 'Zone Resource', 'Host Name', 'Service Name', 'Service Status'], rows);
      await printList(
        cmd,
        ['Zone Name', 'Zone Status'],
        rows.map((r) => r.slice(0, 2)),
      );
    });
}
