import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, SdkError, type NetworkQuery } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { asShowOne, deleteAll, dictText, rows, showFields, type Field } from './network-columns.ts';

/** openstacksdk's FloatingIP, as `floating ip show` names its attributes; `create` shows
 * port_details unformatted. */
const fields = (portDetails?: (v: unknown) => unknown): Field[] => [
  { column: 'created_at' },
  { column: 'description' },
  { column: 'dns_domain' },
  { column: 'dns_name' },
  { column: 'fixed_ip_address' },
  { column: 'floating_ip_address' },
  { column: 'floating_network_id' },
  { column: 'id' },
  { column: 'name', key: 'floating_ip_address' },
  { column: 'port_details', format: portDetails },
  { column: 'port_id' },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'qos_policy_id' },
  { column: 'revision_number' },
  { column: 'router_id' },
  { column: 'status' },
  { column: 'subnet_id' },
  { column: 'tags', fallback: [] },
  { column: 'updated_at' },
];

const LIST: [string, string][] = [
  ['ID', 'id'],
  ['Floating IP Address', 'floating_ip_address'],
  ['Fixed IP Address', 'fixed_ip_address'],
  ['Port', 'port_id'],
  ['Floating Network', 'floating_network_id'],
  ['Project', 'project_id'],
];

const LONG: [string, string][] = [
  ['Router', 'router_id'],
  ['Status', 'status'],
  ['Description', 'description'],
  ['Tags', 'tags'],
  ['DNS Name', 'dns_name'],
  ['DNS Domain', 'dns_domain'],
];

interface CreateOptions {
  subnet?: string;
  port?: string;
  floatingIpAddress?: string;
  fixedIpAddress?: string;
  description?: string;
  project?: string;
  projectDomain?: string;
  dnsDomain?: string;
  dnsName?: string;
}

export function register(floating: Command): void {
  const ip = floating.command('ip').description('floating IPs (floating ip create|list|show|set|unset|delete)');

  showOptions(ip.command('create').description('create a floating IP').argument('<network>', 'network to allocate the floating IP from (name or ID)'))
    .option('--subnet <subnet>', 'subnet to allocate the floating IP from (name or ID)')
    .option('--port <port>', 'port to associate the floating IP with (name or ID)')
    .option('--floating-ip-address <ip-address>', 'the floating IP address')
    .option('--fixed-ip-address <ip-address>', 'fixed IP address of the port to map the floating IP to')
    .option('--description <description>', 'floating IP description')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--dns-domain <dns-domain>', 'DNS domain of the floating IP')
    .option('--dns-name <dns-name>', 'DNS name of the floating IP')
    .action(async (networkRef: string, o: CreateOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const created = await asShowOne(async () => {
        // openstackclient looks these up one after the other; they are independent.
        const [network, subnet, port, project] = await Promise.all([
          net.find('network', networkRef),
          o.subnet ? net.find('subnet', o.subnet) : undefined,
          o.port ? net.find('port', o.port) : undefined,
          o.project ? findProject(identity, o.project, o.projectDomain) : undefined,
        ]);
        const attrs: Record<string, unknown> = { floating_network_id: network.id };
        if (subnet) attrs.subnet_id = subnet.id;
        if (port) attrs.port_id = port.id;
        if (o.floatingIpAddress) attrs.floating_ip_address = o.floatingIpAddress;
        if (o.fixedIpAddress) attrs.fixed_ip_address = o.fixedIpAddress;
        if (o.description !== undefined) attrs.description = o.description;
        if (project) attrs.project_id = project.id;
        if (o.dnsDomain) attrs.dns_domain = o.dnsDomain;
        if (o.dnsName) attrs.dns_name = o.dnsName;
        return net.create('floating-ip', attrs);
      });
      await printShow(cmd, showFields(created, fields()));
    });

  listOptions(ip.command('list').description('list floating IPs'))
    .option('--network <network>', 'only floating IPs of this network (name or ID)')
    .option('--port <port>', 'only the floating IPs of this port (name or ID)')
    .option('--fixed-ip-address <ip-address>', 'only floating IPs mapped to this fixed IP address')
    .option('--floating-ip-address <ip-address>', 'only the floating IP of this address')
    .option('--long', 'list more fields')
    .addOption(new Option('--status <status>', 'only floating IPs in this status').choices(['ACTIVE', 'DOWN']))
    .option('--project <project>', 'only floating IPs of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--router <router>', 'only floating IPs of this router (name or ID)')
    .action(
      async (
        o: {
          network?: string;
          port?: string;
          fixedIpAddress?: string;
          floatingIpAddress?: string;
          long?: boolean;
          status?: string;
          project?: string;
          projectDomain?: string;
          router?: string;
        },
        cmd: Command,
      ) => {
        const { session, identity } = await connect(cmd);
        const net = new NetworkClient(session);
        const [network, port, project, router] = await Promise.all([
          o.network !== undefined ? net.find('network', o.network) : undefined,
          o.port !== undefined ? net.find('port', o.port) : undefined,
          o.project !== undefined ? findProject(identity, o.project, o.projectDomain) : undefined,
          o.router !== undefined ? net.find('router', o.router) : undefined,
        ]);
        const query: NetworkQuery = {
          floating_network_id: network?.id,
          port_id: port?.id,
          fixed_ip_address: o.fixedIpAddress,
          floating_ip_address: o.floatingIpAddress,
          status: o.status,
          project_id: project?.id,
          router_id: router?.id,
        };
        const columns = o.long ? [...LIST, ...LONG] : LIST;
        const all = fields();
        await printList(
          cmd,
          columns.map(([h]) => h),
          rows(
            await net.list('floating-ip', query),
            columns.map(([, c]) => all.find((f) => f.column === c)!),
          ),
        );
      },
    );

  showOptions(ip.command('show').description('show a floating IP').argument('<floating-ip>', 'floating IP (address or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await asShowOne(() => new NetworkClient(session).find('floating-ip', ref));
      await printShow(cmd, showFields(found, fields(dictText)));
    },
  );

  ip.command('set')
    .description('associate a floating IP with a port, or describe it')
    .argument('<floating-ip>', 'floating IP (address or ID)')
    .option('--port <port>', 'associate the floating IP with this port (name or ID)')
    .option('--fixed-ip-address <ip-address>', 'fixed IP of the port to map the floating IP to')
    .option('--description <description>', 'floating IP description')
    .action(async (ref: string, o: { port?: string; fixedIpAddress?: string; description?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('floating-ip', ref);
      const attrs: Record<string, unknown> = {};
      if (o.port) attrs.port_id = (await net.find('port', o.port)).id;
      if (o.fixedIpAddress) attrs.fixed_ip_address = o.fixedIpAddress;
      if (o.description) attrs.description = o.description;
      if (Object.keys(attrs).length) await net.update('floating-ip', found.id, attrs);
    });

  ip.command('unset')
    .description('dissociate a floating IP from its port')
    .argument('<floating-ip>', 'floating IP (address or ID)')
    .option('--port', 'dissociate the floating IP from its port')
    .action(async (ref: string, o: { port?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('floating-ip', ref);
      if (o.port) await net.update('floating-ip', found.id, { port_id: null });
    });

  ip.command('delete')
    .description('delete floating IPs')
    .argument('<floating-ip...>', 'floating IPs to delete (address or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'floating-ip', 'floating_ip', refs);
    });
}

/**
 * `server add floating ip`: associates the floating IP with the server's port that has the fixed
 * IP, or else with the first of its ports the floating IP's network can reach (openstackclient
 * tries each in turn, skipping those Neutron answers 404 for: no router to the external network).
 */
export async function addToServer(cmd: Command, serverRef: string, address: string, fixedIpAddress?: string): Promise<void> {
  const { session } = await connect(cmd);
  const net = new NetworkClient(session);
  const { ComputeClient } = await import('../../client/compute.ts');
  const fip = await net.find('floating-ip', address);
  const server = await new ComputeClient(session).findServer(serverRef);
  const ports = await net.list('port', { device_id: server.id });
  if (!ports.length) throw new ClientError('No attached ports found to associate floating IP with');
  if (fixedIpAddress) {
    const port = ports.find((p) => ((p.fixed_ips ?? []) as { ip_address?: string }[]).some((ip) => ip.ip_address === fixedIpAddress));
    if (!port) throw new ClientError(`No port found for fixed IP address ${fixedIpAddress}`);
    await net.update('floating-ip', fip.id, { fixed_ip_address: fixedIpAddress, port_id: port.id });
    return;
  }
  let error: unknown;
  for (const port of ports) {
    try {
      await net.update('floating-ip', fip.id, { port_id: port.id });
      return;
    } catch (err) {
      if (!(err instanceof SdkError && err.status === 404)) throw err;
      error = err;
    }
  }
  throw error;
}

/** `server remove floating ip`: dissociates the floating IP (openstackclient does not look the
 * server up). */
export async function removeFromServer(cmd: Command, address: string): Promise<void> {
  const { session } = await connect(cmd);
  const net = new NetworkClient(session);
  await net.update('floating-ip', (await net.find('floating-ip', address)).id, { port_id: null });
}
