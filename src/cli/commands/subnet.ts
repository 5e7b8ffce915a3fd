import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { allocationPools, append, deleteAll, keyValues, list, routes, rows, showFields, type Field } from './network-columns.ts';
import { register as registerPool } from './subnet-pool.ts';

/** openstacksdk's Subnet, as `subnet show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'allocation_pools', format: allocationPools },
  { column: 'cidr' },
  { column: 'created_at' },
  { column: 'description' },
  { column: 'dns_nameservers', format: list },
  { column: 'dns_publish_fixed_ip' },
  { column: 'enable_dhcp' },
  { column: 'gateway_ip' },
  { column: 'host_routes', format: routes },
  { column: 'id' },
  { column: 'ip_version' },
  { column: 'ipv6_address_mode' },
  { column: 'ipv6_ra_mode' },
  { column: 'name' },
  { column: 'network_id' },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'revision_number' },
  { column: 'segment_id' },
  { column: 'service_types', format: list },
  { column: 'subnetpool_id' },
  { column: 'tags', fallback: [], format: list },
  { column: 'updated_at' },
];

const field = (column: string) => FIELDS.find((f) => f.column === column)!;

type Pairs = Record<string, string>[];

interface SubnetOptions {
  name?: string;
  description?: string;
  gateway?: string;
  /** --dhcp (true) or --no-dhcp (false). */
  dhcp?: boolean;
  allocationPool?: Pairs;
  dnsNameserver?: string[];
  hostRoute?: Pairs;
  serviceType?: string[];
}

const nexthops = (routes: Pairs) => routes.map((r) => ({ destination: r.destination, nexthop: r.gateway }));

/** The body fields create and set share, built as openstackclient builds them. */
function attrsOf(o: SubnetOptions, create: boolean): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.gateway !== undefined) {
    const gateway = o.gateway.toLowerCase();
    if (!create && gateway === 'auto') throw new ClientError('Auto option is not available for Subnet Set. Valid options are <ip-address> or none');
    if (gateway !== 'auto') attrs.gateway_ip = gateway === 'none' ? null : gateway;
  }
  if (o.allocationPool) attrs.allocation_pools = o.allocationPool;
  if (o.dhcp !== undefined) attrs.enable_dhcp = o.dhcp;
  if (o.dnsNameserver) attrs.dns_nameservers = o.dnsNameserver;
  if (o.hostRoute) attrs.host_routes = nexthops(o.hostRoute);
  if (o.serviceType) attrs.service_types = o.serviceType;
  if (o.description !== undefined) attrs.description = o.description;
  return attrs;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--allocation-pool <start=ip-address,end=ip-address>', 'allocation pool of the subnet (repeat for more)', keyValues(['start', 'end']))
    .option('--dns-nameserver <dns-nameserver>', 'DNS server of the subnet (repeat for more)', append)
    .option('--host-route <destination=subnet,gateway=ip-address>', 'additional route of the subnet (repeat for more)', keyValues(['destination', 'gateway']))
    .option('--service-type <service-type>', 'service type of the subnet: a device owner of ports (repeat for more)', append)
    .option('--description <description>', 'subnet description');
}

export function register(subnet: Command): void {
  registerPool(subnet.command('pool').description('subnet pools: prefixes subnets take their ranges from'));
  const create = subnet.command('create').description('create a subnet').argument('<name>', 'new subnet name');
  showOptions(commonOptions(create))
    .requiredOption('--network <network>', 'network the subnet belongs to (name or ID)')
    .option('--subnet-range <subnet-range>', 'subnet range in CIDR notation')
    .option('--gateway <gateway>', "gateway: an IP address, 'auto' (chosen in the subnet) or 'none'", 'auto')
    .addOption(new Option('--ip-version <ip-version>', 'IP version (default 4)').choices(['4', '6']).default('4'))
    .addOption(new Option('--ipv6-ra-mode <mode>', 'IPv6 router advertisement mode').choices(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac']))
    .addOption(new Option('--ipv6-address-mode <mode>', 'IPv6 address mode').choices(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac']))
    .option('--dhcp', 'enable DHCP (default)')
    .option('--no-dhcp', 'disable DHCP')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(
      async (
        name: string,
        o: SubnetOptions & {
          network: string;
          subnetRange?: string;
          ipVersion: string;
          ipv6RaMode?: string;
          ipv6AddressMode?: string;
          project?: string;
          projectDomain?: string;
        },
        cmd: Command,
      ) => {
        const { session, identity } = await connect(cmd);
        const net = new NetworkClient(session);
        const [network, project] = await Promise.all([
          net.find('network', o.network),
          o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
        ]);
        const attrs: Record<string, unknown> = {
          name,
          ...(project ? { project_id: project.id } : {}),
          network_id: network.id,
          ...(o.subnetRange !== undefined ? { cidr: o.subnetRange } : {}),
          ip_version: Number(o.ipVersion),
          ...(o.ipv6RaMode ? { ipv6_ra_mode: o.ipv6RaMode } : {}),
          ...(o.ipv6AddressMode ? { ipv6_address_mode: o.ipv6AddressMode } : {}),
          ...attrsOf(o, true),
        };
        await printShow(cmd, showFields(await net.create('subnet', attrs), FIELDS));
      },
    );

  listOptions(subnet.command('list').description('list subnets'))
    .option('--long', 'list more fields')
    .addOption(new Option('--ip-version <ip-version>', 'only subnets of this IP version').choices(['4', '6']))
    .option('--dhcp', 'only subnets with DHCP')
    .option('--no-dhcp', 'only subnets without DHCP')
    .option('--service-type <service-type>', 'only subnets of this service type (repeat for more)', append)
    .option('--project <project>', 'only subnets of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--network <network>', 'only subnets of this network (name or ID)')
    .option('--gateway <gateway>', 'only subnets with this gateway IP')
    .option('--name <name>', 'only subnets of this name')
    .option('--subnet-range <subnet-range>', 'only subnets of this range (CIDR)')
    .action(
      async (
        o: SubnetOptions & { long?: boolean; ipVersion?: string; project?: string; projectDomain?: string; network?: string; subnetRange?: string },
        cmd: Command,
      ) => {
        const { session, identity } = await connect(cmd);
        const net = new NetworkClient(session);
        const [network, project] = await Promise.all([
          o.network ? net.find('network', o.network) : undefined,
          o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
        ]);
        // commander reads --no-dhcp as dhcp=false: only its absence leaves dhcp undefined.
        const query: NetworkQuery = {
          ip_version: o.ipVersion,
          enable_dhcp: o.dhcp,
          service_types: o.serviceType,
          project_id: project?.id,
          network_id: network?.id,
          gateway_ip: o.gateway,
          name: o.name,
          cidr: o.subnetRange,
        };
        const subnets = await net.list('subnet', query);
        const columns: [string, Field][] = [
          ['ID', field('id')],
          ['Name', field('name')],
          ['Network', field('network_id')],
          ['Subnet', field('cidr')],
        ];
        if (o.long) {
          columns.push(
            ['Project', field('project_id')],
            ['DHCP', field('enable_dhcp')],
            ['Name Servers', field('dns_nameservers')],
            ['Allocation Pools', field('allocation_pools')],
            ['Host Routes', field('host_routes')],
            ['IP Version', field('ip_version')],
            ['Gateway', field('gateway_ip')],
            ['Service Types', field('service_types')],
            ['Tags', field('tags')],
          );
        }
        await printList(
          cmd,
          columns.map(([heading]) => heading),
          rows(
            subnets,
            columns.map(([, f]) => f),
          ),
        );
      },
    );

  showOptions(subnet.command('show').description('show a subnet').argument('<subnet>', 'subnet (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    await printShow(cmd, showFields(await new NetworkClient(session).find('subnet', ref), FIELDS));
  });

  const set = subnet.command('set').description("change a subnet's properties").argument('<subnet>', 'subnet to modify (name or ID)');
  // commander folds --no-X into X (false), which a later --X overwrites: the events say which
  // were given, wherever they stood.
  const cleared = new Set<string>();
  for (const flag of ['no-allocation-pool', 'no-dns-nameservers', 'no-host-route']) set.on(`option:${flag}`, () => cleared.add(flag));
  commonOptions(set)
    .option('--name <name>', 'new subnet name')
    .option('--gateway <gateway>', "gateway: an IP address or 'none'")
    .option('--dhcp', 'enable DHCP')
    .option('--no-dhcp', 'disable DHCP')
    .option('--no-allocation-pool', 'remove the allocation pools first (with --allocation-pool: replace them)')
    .option('--no-dns-nameservers', 'remove the DNS servers first (with --dns-nameserver: replace them)')
    .option('--no-host-route', 'remove the host routes first (with --host-route: replace them)')
    .action(async (ref: string, o: SubnetOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('subnet', ref);
      const given = <T>(v: T | false | undefined) => (Array.isArray(v) ? v : undefined);
      const attrs = attrsOf({ ...o, allocationPool: given(o.allocationPool), dnsNameserver: given(o.dnsNameserver), hostRoute: given(o.hostRoute) }, false);
      // New entries are added to what the subnet has, unless --no-… asked to replace it.
      const merge = (key: string, flag: string) => {
        if (key in attrs) {
          if (!cleared.has(flag)) attrs[key] = [...(attrs[key] as unknown[]), ...((found[key] as unknown[] | null) ?? [])];
        } else if (cleared.has(flag)) attrs[key] = [];
      };
      merge('dns_nameservers', 'no-dns-nameservers');
      merge('host_routes', 'no-host-route');
      merge('allocation_pools', 'no-allocation-pool');
      if ('service_types' in attrs) attrs.service_types = [...(attrs.service_types as string[]), ...((found.service_types as string[] | null) ?? [])];
      if (Object.keys(attrs).length) await net.update('subnet', found.id, attrs);
    });

  subnet
    .command('delete')
    .description('delete subnets')
    .argument('<subnet...>', 'subnets to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'subnet', 'subnet', refs);
    });
}
