import { Option, type Command } from 'commander';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { adminState, asShowOne, deleteAll, list, routerExternal, rows, showFields, type Field } from './network-columns.ts';
import { register as registerQos } from './network-qos.ts';
import { register as registerRbac } from './network-rbac.ts';

/** openstacksdk's Network, as `network show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'admin_state_up', format: adminState },
  { column: 'availability_zone_hints', format: list },
  { column: 'availability_zones', format: list },
  { column: 'created_at' },
  { column: 'description' },
  { column: 'dns_domain' },
  { column: 'id' },
  { column: 'ipv4_address_scope' },
  { column: 'ipv6_address_scope' },
  { column: 'is_default' },
  { column: 'is_vlan_transparent', key: 'vlan_transparent' },
  { column: 'mtu' },
  { column: 'name' },
  { column: 'port_security_enabled', fallback: false },
  { column: 'project_id' },
  { column: 'provider:network_type' },
  { column: 'provider:physical_network' },
  { column: 'provider:segmentation_id' },
  { column: 'qos_policy_id' },
  { column: 'revision_number' },
  { column: 'router:external', fallback: false, format: routerExternal },
  { column: 'segments' },
  { column: 'shared' },
  { column: 'status' },
  { column: 'subnets', format: list },
  { column: 'tags', fallback: [], format: list },
  { column: 'updated_at' },
];

const field = (column: string) => FIELDS.find((f) => f.column === column)!;

interface NetworkOptions {
  name?: string;
  enable?: boolean;
  disable?: boolean;
  share?: boolean;
  noShare?: boolean;
  description?: string;
  mtu?: string;
  enablePortSecurity?: boolean;
  disablePortSecurity?: boolean;
  external?: boolean;
  internal?: boolean;
  default?: boolean;
  noDefault?: boolean;
  providerNetworkType?: string;
  providerPhysicalNetwork?: string;
  providerSegment?: string;
  dnsDomain?: string;
  project?: string;
  projectDomain?: string;
  /** A policy's name or ID, or false for --no-qos-policy. */
  qosPolicy?: string | false;
}

/** The QoS policy the options name: its ID, null to take it away, undefined when not asked. */
async function qosPolicyOf(net: NetworkClient, o: NetworkOptions): Promise<string | null | undefined> {
  if (o.qosPolicy === false) return null;
  return o.qosPolicy === undefined ? undefined : (await net.find('qos-policy', o.qosPolicy)).id;
}

/** The request body of create and set, built as openstackclient builds it. */
function attrsOf(o: NetworkOptions): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  if (o.share) attrs.shared = true;
  if (o.noShare) attrs.shared = false;
  if (o.enablePortSecurity) attrs.port_security_enabled = true;
  if (o.disablePortSecurity) attrs.port_security_enabled = false;
  if (o.description) attrs.description = o.description;
  // openstackclient sends the MTU and segment as the strings they were given.
  if (o.mtu) attrs.mtu = o.mtu;
  if (o.internal) attrs['router:external'] = false;
  if (o.external) attrs['router:external'] = true;
  if (o.noDefault) attrs.is_default = false;
  if (o.default) attrs.is_default = true;
  if (o.providerNetworkType) attrs['provider:network_type'] = o.providerNetworkType;
  if (o.providerPhysicalNetwork) attrs['provider:physical_network'] = o.providerPhysicalNetwork;
  if (o.providerSegment) attrs['provider:segmentation_id'] = o.providerSegment;
  if (o.dnsDomain) attrs.dns_domain = o.dnsDomain;
  return attrs;
}

/** Options that come in excluding pairs: --a, --b. */
function pair(cmd: Command, a: string, aHelp: string, b: string, bHelp: string): Command {
  const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  return cmd.addOption(new Option(`--${a}`, aHelp)).addOption(new Option(`--${b}`, bHelp).conflicts(camel(a)));
}

function commonOptions(cmd: Command, create: boolean): Command {
  pair(cmd, 'enable', `enable network${create ? ' (default)' : ''}`, 'disable', 'disable network');
  pair(cmd, 'share', 'share the network between projects', 'no-share', 'do not share the network between projects');
  pair(cmd, 'enable-port-security', 'enable port security by default for ports on this network', 'disable-port-security', 'disable it by default');
  pair(cmd, 'external', 'set this network as an external network', 'internal', `set this network as an internal network${create ? ' (default)' : ''}`);
  pair(cmd, 'default', 'use the network as the default external network', 'no-default', 'do not use it as the default external network');
  return cmd
    .option('--description <description>', 'network description')
    .option('--mtu <mtu>', 'network MTU')
    .option('--provider-network-type <provider-network-type>', 'how the network is implemented: flat, vlan, vxlan, local…')
    .option('--provider-physical-network <provider-physical-network>', 'physical network the network is implemented on')
    .option('--provider-segment <provider-segment>', 'VLAN ID for VLAN networks, tunnel ID for VXLAN networks')
    .option('--dns-domain <dns-domain>', 'DNS domain of the network')
    .option('--qos-policy <qos-policy>', 'QoS policy of the network and its ports without one (name or ID)');
}

export function register(network: Command): void {
  registerQos(network.command('qos').description('QoS policies and their rules (network qos policy …, network qos rule …)'));
  registerRbac(network.command('rbac').description('RBAC policies: networks shared with one project, or external to it'));
  const create = network.command('create').description('create a network').argument('<name>', 'new network name');
  showOptions(commonOptions(create, true))
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (name: string, o: NetworkOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const attrs: Record<string, unknown> = { name, ...attrsOf(o) };
      // openstackclient sends admin_state_up: its --enable defaults to on.
      if (!o.disable) attrs.admin_state_up = true;
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      const policy = await qosPolicyOf(net, o);
      if (policy !== undefined) attrs.qos_policy_id = policy;
      const created = await asShowOne(() => net.create('network', attrs));
      await printShow(cmd, showFields(created, FIELDS));
    });

  const ls = network.command('list').description('list networks');
  pair(ls, 'external', 'list external networks', 'internal', 'list internal networks');
  pair(ls, 'enable', 'list enabled networks', 'disable', 'list disabled networks');
  pair(ls, 'share', 'list networks shared between projects', 'no-share', 'list networks not shared between projects');
  listOptions(ls)
    .option('--long', 'list more fields')
    .option('--name <name>', 'list networks of this name')
    .option('--project <project>', 'list networks of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .addOption(new Option('--status <status>', 'list networks in this status').choices(['ACTIVE', 'BUILD', 'DOWN', 'ERROR']))
    .addOption(
      new Option('--provider-network-type <provider-network-type>', 'list networks of this type').choices(['flat', 'geneve', 'gre', 'local', 'vlan', 'vxlan']),
    )
    .option('--provider-physical-network <provider-physical-network>', 'list networks on this physical network')
    .option('--provider-segment <provider-segment>', 'list networks of this VLAN or tunnel ID')
    .action(async (o: NetworkOptions & { long?: boolean; status?: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const query: NetworkQuery = {
        'router:external': o.external ? true : o.internal ? false : undefined,
        name: o.name,
        admin_state_up: o.enable ? true : o.disable ? false : undefined,
        shared: o.share ? true : o.noShare ? false : undefined,
        status: o.status,
        'provider:network_type': o.providerNetworkType,
        'provider:physical_network': o.providerPhysicalNetwork,
        'provider:segmentation_id': o.providerSegment,
        project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
      };
      const networks = await new NetworkClient(session).list('network', query);
      const columns: [string, Field][] = o.long
        ? [
            ['ID', field('id')],
            ['Name', field('name')],
            ['Status', field('status')],
            ['Project', field('project_id')],
            ['State', field('admin_state_up')],
            ['Shared', field('shared')],
            ['Subnets', field('subnets')],
            ['Network Type', field('provider:network_type')],
            ['Router Type', field('router:external')],
            ['Availability Zones', field('availability_zones')],
            ['Tags', field('tags')],
          ]
        : [
            ['ID', field('id')],
            ['Name', field('name')],
            ['Subnets', field('subnets')],
          ];
      await printList(
        cmd,
        columns.map(([heading]) => heading),
        rows(
          networks,
          columns.map(([, f]) => f),
        ),
      );
    });

  showOptions(network.command('show').description('show a network').argument('<network>', 'network (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await asShowOne(() => new NetworkClient(session).find('network', ref));
      await printShow(cmd, showFields(found, FIELDS));
    },
  );

  commonOptions(network.command('set').description("change a network's properties").argument('<network>', 'network to modify (name or ID)'), false)
    .option('--name <name>', 'new network name')
    .option('--no-qos-policy', 'take the QoS policy away from the network')
    .action(async (ref: string, o: NetworkOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('network', ref);
      const attrs = attrsOf(o);
      const policy = await qosPolicyOf(net, o);
      if (policy !== undefined) attrs.qos_policy_id = policy;
      if (Object.keys(attrs).length) await net.update('network', found.id, attrs);
    });

  network
    .command('delete')
    .description('delete networks')
    .argument('<network...>', 'networks to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'network', 'network', refs);
    });
}
