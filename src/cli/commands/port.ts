import { Option, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { NetworkClient, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { adminState, append, deleteAll, dict, fixedIps, keyValues, list, listDict, rows, showFields, type Field } from './network-columns.ts';

/** openstacksdk's Port, as `port show` names its attributes. */
const FIELDS: Field[] = [
  { column: 'admin_state_up', format: adminState },
  { column: 'allowed_address_pairs', format: listDict },
  { column: 'binding_host_id', key: 'binding:host_id' },
  { column: 'binding_profile', key: 'binding:profile', format: dict },
  { column: 'binding_vif_details', key: 'binding:vif_details', format: dict },
  { column: 'binding_vif_type', key: 'binding:vif_type' },
  { column: 'binding_vnic_type', key: 'binding:vnic_type' },
  { column: 'created_at' },
  { column: 'data_plane_status' },
  { column: 'description' },
  { column: 'device_id' },
  { column: 'device_owner' },
  { column: 'device_profile' },
  { column: 'dns_assignment', format: listDict },
  { column: 'dns_domain' },
  { column: 'dns_name' },
  { column: 'extra_dhcp_opts', format: listDict },
  { column: 'fixed_ips', format: listDict },
  { column: 'id' },
  { column: 'ip_allocation' },
  { column: 'mac_address' },
  { column: 'name' },
  { column: 'network_id' },
  { column: 'numa_affinity_policy' },
  { column: 'port_security_enabled', fallback: false },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'propagate_uplink_status' },
  { column: 'qos_network_policy_id' },
  { column: 'qos_policy_id' },
  { column: 'resource_request' },
  { column: 'revision_number' },
  { column: 'security_group_ids', key: 'security_groups', format: list },
  { column: 'status' },
  { column: 'tags', fallback: [], format: list },
  { column: 'trunk_details' },
  { column: 'updated_at' },
];

type Pairs = Record<string, string>[];

interface PortOptions {
  name?: string;
  description?: string;
  device?: string;
  macAddress?: string;
  deviceOwner?: string;
  vnicType?: string;
  host?: string;
  dnsDomain?: string;
  dnsName?: string;
  enable?: boolean;
  disable?: boolean;
  enablePortSecurity?: boolean;
  disablePortSecurity?: boolean;
  fixedIp?: Pairs;
  securityGroup?: string[] | false;
  allowedAddress?: Pairs;
  bindingProfile?: Record<string, unknown>;
  extraDhcpOption?: Pairs;
  qosPolicy?: string;
}

/** The body fields create and set share, built as openstackclient builds them. */
function attrsOf(o: PortOptions): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (o.description !== undefined) attrs.description = o.description;
  if (o.device) attrs.device_id = o.device;
  if (o.deviceOwner !== undefined) attrs.device_owner = o.deviceOwner;
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  if (o.vnicType !== undefined) attrs['binding:vnic_type'] = o.vnicType;
  if (o.host) attrs['binding:host_id'] = o.host;
  if (o.macAddress !== undefined) attrs.mac_address = o.macAddress;
  if (o.dnsDomain !== undefined) attrs.dns_domain = o.dnsDomain;
  if (o.dnsName !== undefined) attrs.dns_name = o.dnsName;
  if (o.name !== undefined) attrs.name = o.name;
  if (o.disablePortSecurity) attrs.port_security_enabled = false;
  if (o.enablePortSecurity) attrs.port_security_enabled = true;
  if (o.extraDhcpOption)
    attrs.extra_dhcp_opts = o.extraDhcpOption.map((x) => ({
      opt_name: x.name,
      ...(x.value !== undefined ? { opt_value: x.value } : {}),
      ...(x['ip-version'] !== undefined ? { ip_version: x['ip-version'] } : {}),
    }));
  return attrs;
}

/** attrs with the QoS policy --qos-policy names, looked up by name or ID. */
async function withQosPolicy(net: NetworkClient, o: PortOptions, attrs: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (o.qosPolicy) attrs.qos_policy_id = (await net.find('qos-policy', o.qosPolicy)).id;
  return attrs;
}

const addressPairs = (pairs: Pairs) =>
  pairs.map((p) => ({ ip_address: p['ip-address'], ...(p['mac-address'] !== undefined ? { mac_address: p['mac-address'] } : {}) }));

/** --binding-profile: JSON, or key=value. */
function bindingProfile(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { ...previous, ...(parsed as Record<string, unknown>) };
  } catch {
    // Not JSON: key=value.
  }
  const at = value.indexOf('=');
  if (at < 0) throw new Error(`Expected '<key>=<value>' or JSON data for option --binding-profile, but encountered JSON parsing error`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function updatable(cmd: Command): Command {
  return cmd
    .option('--description <description>', 'port description')
    .option('--device <device-id>', 'ID of the device using the port')
    .option('--mac-address <mac-address>', "the port's MAC address (admin only)")
    .option('--device-owner <device-owner>', 'device owner, e.g. compute:nova')
    .addOption(
      new Option('--vnic-type <vnic-type>', 'VNIC type').choices(['direct', 'direct-physical', 'macvtap', 'normal', 'baremetal', 'virtio-forwarder', 'vdpa']),
    )
    .option('--host <host-id>', 'host the port is bound to (admin only)')
    .option('--dns-domain <dns-domain>', 'DNS domain of the port')
    .option('--dns-name <dns-name>', 'DNS name of the port')
    .option('--enable', 'enable the port')
    .addOption(new Option('--disable', 'disable the port').conflicts('enable'))
    .option('--enable-port-security', 'enable port security')
    .addOption(new Option('--disable-port-security', 'disable port security').conflicts('enablePortSecurity'))
    .option('--binding-profile <binding-profile>', 'key=value or JSON for binding:profile (repeat for more)', bindingProfile)
    .option(
      '--allowed-address <ip-address=ip-address[,mac-address=mac-address]>',
      'allowed address pair (repeat for more)',
      keyValues(['ip-address'], ['mac-address']),
    )
    .option(
      '--extra-dhcp-option <name=name[,value=value,ip-version={4,6}]>',
      'extra DHCP option for this port (repeat for more)',
      keyValues(['name'], ['value', 'ip-version']),
    )
    .option('--qos-policy <qos-policy>', 'attach this QoS policy to the port (name or ID)');
}

const fixedIpOption = (cmd: Command) =>
  cmd.option('--fixed-ip <subnet=subnet,ip-address=ip-address>', 'a fixed IP of the port (repeat for more)', keyValues([], ['subnet', 'ip-address']));

export function register(port: Command): void {
  const create = port.command('create').description('create a port').argument('<name>', 'new port name');
  showOptions(fixedIpOption(updatable(create)))
    .requiredOption('--network <network>', 'network the port is on (name or ID)')
    .option('--no-fixed-ip', 'no fixed IP')
    .option('--security-group <security-group>', 'security group of the port (name or ID) (repeat for more)', append)
    .option('--no-security-group', 'no security group')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (name: string, o: PortOptions & { network: string; fixedIp?: Pairs | false; project?: string; projectDomain?: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      // openstackclient looks these up one after the other; they are independent.
      const [network, ips, groups, project] = await Promise.all([
        net.find('network', o.network),
        o.fixedIp ? fixedIps(net, o.fixedIp) : undefined,
        o.securityGroup ? Promise.all(o.securityGroup.map(async (g) => (await net.find('security-group', g)).id)) : undefined,
        o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
      ]);
      // Its --enable is on by default.
      const attrs: Record<string, unknown> = { ...attrsOf({ ...o, enable: !o.disable }), network_id: network.id, name };
      if (project) attrs.project_id = project.id;
      if (o.bindingProfile) attrs['binding:profile'] = o.bindingProfile;
      if (ips) attrs.fixed_ips = ips;
      else if (o.fixedIp === false) attrs.fixed_ips = [];
      if (groups) attrs.security_groups = groups;
      else if (o.securityGroup === false) attrs.security_groups = [];
      if (o.allowedAddress) attrs.allowed_address_pairs = addressPairs(o.allowedAddress);
      await printShow(cmd, showFields(await net.create('port', await withQosPolicy(net, o, attrs)), FIELDS));
    });

  listOptions(port.command('list').description('list ports'))
    .option('--device-owner <device-owner>', 'only ports of this device owner')
    .option('--host <host-id>', 'only ports bound to this host')
    .option('--network <network>', 'only ports on this network (name or ID)')
    .option('--router <router>', 'only ports of this router (name or ID)')
    .addOption(new Option('--server <server>', 'only ports of this server (name or ID)').conflicts('router'))
    .addOption(new Option('--device-id <device-id>', 'only ports of this device').conflicts(['router', 'server']))
    .option('--mac-address <mac-address>', 'only the port with this MAC address')
    .option('--long', 'list more fields')
    .option('--project <project>', 'only ports of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--name <name>', 'only ports of this name')
    .option('--security-group <security-group>', 'only ports in this security group (ID) (repeat for more)', append)
    .option(
      '--fixed-ip <subnet=subnet,ip-address=ip-address,ip-substring=ip-substring>',
      'only ports with this fixed IP (repeat for more)',
      keyValues([], ['subnet', 'ip-address', 'ip-substring']),
    )
    .action(
      async (
        o: {
          deviceOwner?: string;
          host?: string;
          network?: string;
          router?: string;
          server?: string;
          deviceId?: string;
          macAddress?: string;
          long?: boolean;
          project?: string;
          projectDomain?: string;
          name?: string;
          securityGroup?: string[];
          fixedIp?: Pairs;
          column?: string[];
        },
        cmd: Command,
      ) => {
        const { session, identity } = await connect(cmd);
        const net = new NetworkClient(session);
        const [router, server, network, project, ips] = await Promise.all([
          o.router ? net.find('router', o.router) : undefined,
          o.server ? new ComputeClient(session).findServer(o.server) : undefined,
          o.network ? net.find('network', o.network) : undefined,
          o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
          o.fixedIp
            ? Promise.all(
                o.fixedIp.map(async (spec) => [
                  ...(spec.subnet ? [`subnet_id=${(await net.find('subnet', spec.subnet)).id}`] : []),
                  ...(spec['ip-address'] !== undefined ? [`ip_address=${spec['ip-address']}`] : []),
                  ...(spec['ip-substring'] !== undefined ? [`ip_address_substr=${spec['ip-substring']}`] : []),
                ]),
              )
            : undefined,
        ]);
        let columns: [string, string][] = [
          ['ID', 'id'],
          ['Name', 'name'],
          ['MAC Address', 'mac_address'],
          ['Fixed IP Addresses', 'fixed_ips'],
          ['Status', 'status'],
        ];
        if (o.long) columns.push(['Security Groups', 'security_group_ids'], ['Device Owner', 'device_owner'], ['Tags', 'tags']);
        // openstackclient asks only for its columns' attributes, by openstacksdk's names.
        const fields = columns.map(([, attr]) => attr);
        // Its -c takes headings or attribute names, in the order given.
        if (o.column?.length) columns = o.column.map((c) => columns.find(([h, a]) => h === c || a === c) ?? [c, c]);
        const query: NetworkQuery = {
          fields,
          device_owner: o.deviceOwner,
          device_id: router?.id ?? server?.id ?? o.deviceId,
          'binding:host_id': o.host,
          network_id: network?.id,
          mac_address: o.macAddress,
          project_id: project?.id,
          name: o.name,
          fixed_ips: ips?.flat(),
          security_groups: o.securityGroup,
        };
        const ports = await net.list('port', query);
        const known = (attr: string): Field => FIELDS.find((f) => f.column === attr) ?? { column: attr, fallback: '' };
        if (o.column?.length)
          cmd.setOptionValue(
            'column',
            columns.map(([h]) => h),
          );
        await printList(
          cmd,
          columns.map(([h]) => h),
          rows(
            ports,
            columns.map(([, a]) => known(a)),
          ),
        );
      },
    );

  showOptions(port.command('show').description('show a port').argument('<port>', 'port (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    await printShow(cmd, showFields(await new NetworkClient(session).find('port', ref), FIELDS));
  });

  const set = port.command('set').description("change a port's properties").argument('<port>', 'port to modify (name or ID)');
  const cleared = new Set<string>();
  for (const flag of ['no-fixed-ip', 'no-security-group', 'no-binding-profile', 'no-allowed-address']) set.on(`option:${flag}`, () => cleared.add(flag));
  fixedIpOption(updatable(set))
    .option('--name <name>', 'new port name')
    .option('--no-fixed-ip', 'remove the fixed IPs first (with --fixed-ip: replace them)')
    .option('--no-binding-profile', 'clear binding:profile first (with --binding-profile: replace it)')
    .option('--security-group <security-group>', 'add this security group (name or ID) (repeat for more)', append)
    .option('--no-security-group', 'remove the security groups first (with --security-group: replace them)')
    .option('--no-allowed-address', 'remove the allowed address pairs first (with --allowed-address: replace them)')
    .action(async (ref: string, o: PortOptions & { fixedIp?: Pairs | false }, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const [ips, found] = await Promise.all([o.fixedIp ? fixedIps(net, o.fixedIp) : undefined, net.find('port', ref)]);
      const attrs = attrsOf(o);
      const current = <T>(key: string, flag: string) => (cleared.has(flag) ? [] : ((found[key] as T[] | null) ?? []));
      if (cleared.has('no-binding-profile')) attrs['binding:profile'] = {};
      if (o.bindingProfile)
        attrs['binding:profile'] = { ...(cleared.has('no-binding-profile') ? {} : (found['binding:profile'] as object)), ...o.bindingProfile };
      if (cleared.has('no-fixed-ip')) attrs.fixed_ips = [];
      if (ips) attrs.fixed_ips = [...current<object>('fixed_ips', 'no-fixed-ip').filter((ip) => ip && Object.keys(ip).length), ...ips];
      if (cleared.has('no-security-group')) attrs.security_groups = [];
      if (o.securityGroup) {
        const ids = await Promise.all(o.securityGroup.map(async (g) => (await net.find('security-group', g)).id));
        attrs.security_groups = [...current<string>('security_groups', 'no-security-group'), ...ids];
      }
      if (cleared.has('no-allowed-address')) attrs.allowed_address_pairs = [];
      if (o.allowedAddress)
        attrs.allowed_address_pairs = [...current<object>('allowed_address_pairs', 'no-allowed-address'), ...addressPairs(o.allowedAddress)];
      await withQosPolicy(net, o, attrs);
      if (Object.keys(attrs).length) await net.update('port', found.id, attrs);
    });

  port
    .command('delete')
    .description('delete ports')
    .argument('<port...>', 'ports to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'port', 'port', refs);
    });
}
