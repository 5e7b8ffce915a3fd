import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, type NetworkQuery, type Resource } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { adminState, append, deleteAll, fixedIps, keyValues, list, routerInfo, routes, rows, showFields, type Field } from './network-columns.ts';

/** openstacksdk's Router, as `router show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'admin_state_up', format: adminState },
  { column: 'availability_zone_hints', format: list },
  { column: 'availability_zones', format: list },
  { column: 'created_at' },
  { column: 'description' },
  { column: 'distributed', ifSet: true },
  { column: 'enable_ndp_proxy' },
  { column: 'external_gateway_info', format: routerInfo },
  { column: 'flavor_id' },
  { column: 'ha', ifSet: true },
  { column: 'id' },
  { column: 'name' },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'revision_number' },
  { column: 'routes', format: routes },
  { column: 'status' },
  { column: 'tags', fallback: [], format: list },
  { column: 'tenant_id' },
  { column: 'updated_at' },
];

const field = (column: string) => FIELDS.find((f) => f.column === column)!;

type Pairs = Record<string, string>[];

interface RouterOptions {
  name?: string;
  description?: string;
  enable?: boolean;
  disable?: boolean;
  distributed?: boolean;
  centralized?: boolean;
  ha?: boolean;
  noHa?: boolean;
  externalGateway?: string;
  enableSnat?: boolean;
  disableSnat?: boolean;
  fixedIp?: Pairs;
  route?: Pairs | false;
  project?: string;
  projectDomain?: string;
}

const SNAT_NEEDS_GATEWAY = "You must specify '--external-gateway' in order to specify SNAT or fixed-ip values";

/** The body fields create and set share, built as openstackclient builds them. */
async function attrsOf(net: NetworkClient, o: RouterOptions): Promise<Record<string, unknown>> {
  const attrs: Record<string, unknown> = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  if (o.centralized) attrs.distributed = false;
  if (o.distributed) attrs.distributed = true;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.ha) attrs.ha = true;
  if (o.noHa) attrs.ha = false;
  if (o.externalGateway) {
    const [network, ips] = await Promise.all([net.find('network', o.externalGateway), o.fixedIp ? fixedIps(net, o.fixedIp) : undefined]);
    attrs.external_gateway_info = {
      network_id: network.id,
      ...(o.disableSnat ? { enable_snat: false } : o.enableSnat ? { enable_snat: true } : {}),
      ...(ips ? { external_fixed_ips: ips } : {}),
    };
  }
  return attrs;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--description <description>', 'router description')
    .option('--enable', 'enable the router')
    .addOption(new Option('--disable', 'disable the router').conflicts('enable'))
    .option('--distributed', 'a distributed router')
    .addOption(new Option('--centralized', 'a centralized router').conflicts('distributed'))
    .option('--ha', 'a highly available router')
    .addOption(new Option('--no-ha', 'not a highly available router'))
    .option('--external-gateway <network>', 'external network of the gateway (name or ID)')
    .option(
      '--fixed-ip <subnet=subnet,ip-address=ip-address>',
      "the gateway's IP on the external network (repeat for more)",
      keyValues([], ['subnet', 'ip-address']),
    )
    .option('--enable-snat', 'enable source NAT on the gateway')
    .addOption(new Option('--disable-snat', 'disable source NAT on the gateway').conflicts('enableSnat'));
}

/** commander reads --no-ha as ha=false; openstackclient's flags are two. */
const haFlags = (o: RouterOptions): RouterOptions => ({ ...o, ha: o.ha === true, noHa: o.ha === false });

/** `router add|remove subnet|port ROUTER X`. */
function interfaceCommand(parent: Command, action: 'add' | 'remove', kind: 'subnet' | 'port'): void {
  const help = action === 'add' ? `add a ${kind} to a router` : `remove a ${kind} from a router`;
  parent
    .command(kind)
    .description(help)
    .argument('<router>', 'router (name or ID)')
    .argument(`<${kind}>`, `${kind} (name or ID)`)
    .action(async (routerRef: string, ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      // openstackclient finds the subnet or port first, then the router.
      const target = await net.find(kind, ref);
      const router = await net.find('router', routerRef);
      await net.routerInterface(router.id, action, kind === 'subnet' ? { subnet_id: target.id } : { port_id: target.id });
    });
}

/** The subnets and ports of a router's interfaces, as `router show` lists them. */
const interfacesOf = (ports: Resource[]) =>
  ports
    .filter((p) => p.device_owner !== 'network:router_gateway')
    .flatMap((p) =>
      ((p.fixed_ips ?? []) as { ip_address?: string; subnet_id?: string }[]).map((ip) => ({
        port_id: p.id,
        ip_address: ip.ip_address ?? null,
        subnet_id: ip.subnet_id ?? null,
      })),
    );

export function register(router: Command): void {
  const create = router.command('create').description('create a router').argument('<name>', 'new router name');
  showOptions(commonOptions(create))
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--availability-zone-hint <availability-zone>', 'availability zone for the router (repeat for more)', append)
    .action(async (name: string, o: RouterOptions & { availabilityZoneHint?: string[] }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      // Its --enable is on by default.
      const attrs = await attrsOf(net, { ...haFlags(o), name, enable: !o.disable });
      if (o.availabilityZoneHint) attrs.availability_zone_hints = o.availabilityZoneHint;
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      const created = await net.create('router', attrs);
      // openstackclient checks this once the router exists, which it leaves.
      if ((o.disableSnat || o.enableSnat || o.fixedIp) && !o.externalGateway) throw new ClientError(SNAT_NEEDS_GATEWAY);
      await printShow(cmd, showFields(created, FIELDS));
    });

  listOptions(router.command('list').description('list routers'))
    .option('--name <name>', 'only routers of this name')
    .option('--enable', 'only enabled routers')
    .addOption(new Option('--disable', 'only disabled routers').conflicts('enable'))
    .option('--long', 'list more fields')
    .option('--project <project>', 'only routers of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (o: RouterOptions & { long?: boolean }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const query: NetworkQuery = {
        name: o.name,
        admin_state_up: o.enable ? true : o.disable ? false : undefined,
        project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
      };
      // The long listing shows availability zones where the cloud has them: asked beside the list.
      const [routers, zones] = await Promise.all([net.list('router', query), o.long ? net.extension('router_availability_zone') : undefined]);
      const columns: [string, Field][] = [
        ['ID', field('id')],
        ['Name', field('name')],
        ['Status', field('status')],
        ['State', field('admin_state_up')],
        ['Project', field('project_id')],
      ];
      // openstackclient adds these columns in the order the routers first have them.
      for (const r of routers) {
        if (r.distributed !== undefined && r.distributed !== null && !columns.some(([h]) => h === 'Distributed'))
          columns.push(['Distributed', { column: 'distributed' }]);
        if (r.ha !== undefined && r.ha !== null && !columns.some(([h]) => h === 'HA')) columns.push(['HA', { column: 'ha' }]);
      }
      if (o.long) {
        columns.push(['Routes', field('routes')], ['External gateway info', field('external_gateway_info')]);
        if (zones) columns.push(['Availability zones', field('availability_zones')]);
        columns.push(['Tags', field('tags')]);
      }
      await printList(
        cmd,
        columns.map(([h]) => h),
        rows(
          routers,
          columns.map(([, f]) => f),
        ),
      );
    });

  showOptions(router.command('show').description('show a router, with its interfaces').argument('<router>', 'router (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('router', ref);
      const ports = await net.list('port', { device_id: found.id });
      await printShow(cmd, showFields({ ...found, interfaces_info: interfacesOf(ports) }, [...FIELDS, { column: 'interfaces_info', format: routerInfo }]));
    },
  );

  const set = router.command('set').description("change a router's properties").argument('<router>', 'router to modify (name or ID)');
  let clearRoutes = false;
  set.on('option:no-route', () => (clearRoutes = true));
  commonOptions(set)
    .option('--name <name>', 'new router name')
    .option(
      '--route <destination=subnet,gateway=ip-address>',
      'add this static route (repeat for more)',
      keyValues(['destination', 'gateway']) as (v: string, p: Pairs | false) => Pairs,
    )
    .option('--no-route', 'remove the static routes first (with --route: replace them)')
    .action(async (ref: string, o: RouterOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('router', ref);
      const attrs = await attrsOf(net, haFlags(o));
      if (o.route) {
        const added = o.route.map((r) => ({ destination: r.destination, nexthop: r.gateway }));
        attrs.routes = clearRoutes ? added : [...added, ...((found.routes as object[] | null) ?? [])];
      } else if (clearRoutes) attrs.routes = [];
      if ((o.disableSnat || o.enableSnat || o.fixedIp) && !o.externalGateway) throw new ClientError(SNAT_NEEDS_GATEWAY);
      if (Object.keys(attrs).length) await net.update('router', found.id, attrs);
    });

  router
    .command('unset')
    .description("remove a router's gateway or static routes")
    .argument('<router>', 'router to modify (name or ID)')
    .option('--external-gateway', "remove the router's external gateway")
    .option('--route <destination=subnet,gateway=ip-address>', 'remove this static route (repeat for more)', keyValues(['destination', 'gateway']))
    .action(async (ref: string, o: { externalGateway?: boolean; route?: Pairs }, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('router', ref);
      const attrs: Record<string, unknown> = {};
      if (o.route) {
        const remaining = [...((found.routes as { destination: string; nexthop: string }[] | null) ?? [])];
        for (const r of o.route) {
          const at = remaining.findIndex((x) => x.destination === r.destination && x.nexthop === r.gateway);
          if (at < 0) throw new ClientError(`Router does not contain route {'destination': '${r.destination}', 'nexthop': '${r.gateway}'}`);
          remaining.splice(at, 1);
        }
        attrs.routes = remaining;
      }
      if (o.externalGateway) attrs.external_gateway_info = {};
      if (Object.keys(attrs).length) await net.update('router', found.id, attrs);
    });

  const add = router.command('add').description('add subnets and ports to routers (router add subnet|port)');
  interfaceCommand(add, 'add', 'subnet');
  interfaceCommand(add, 'add', 'port');
  const remove = router.command('remove').description('remove subnets and ports from routers (router remove subnet|port)');
  interfaceCommand(remove, 'remove', 'subnet');
  interfaceCommand(remove, 'remove', 'port');

  router
    .command('delete')
    .description('delete routers')
    .argument('<router...>', 'routers to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'router', 'router', refs);
    });
}
