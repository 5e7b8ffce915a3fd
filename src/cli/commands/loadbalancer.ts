import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import {
  STATS,
  VIEWS,
  adminOptions,
  commonAttrs,
  lbClient,
  neutronId,
  projectId,
  properties,
  showResource,
  showTarget,
  tagFilters,
  tagOptions,
  tagQuery,
  type TagFilters,
  waitForActive,
  waitForDelete,
} from './loadbalancer-common.ts';
import { register as registerListener } from './loadbalancer-listener.ts';
import { register as registerPool } from './loadbalancer-pool.ts';
import { register as registerMember } from './loadbalancer-member.ts';
import { register as registerMonitor } from './loadbalancer-healthmonitor.ts';
import { register as registerL7 } from './loadbalancer-l7.ts';

const PROVISIONING = ['ACTIVE', 'DELETED', 'ERROR', 'PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE'];
const OPERATING = ['ONLINE', 'DRAINING', 'OFFLINE', 'DEGRADED', 'ERROR', 'NO_MONITOR'];

interface LbOptions {
  name?: string;
  description?: string;
  vipAddress?: string;
  vipPortId?: string;
  vipSubnetId?: string;
  vipNetworkId?: string;
  vipQosPolicyId?: string;
  project?: string;
  provider?: string;
  availabilityZone?: string;
  flavor?: string;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

export function register(loadbalancer: Command): void {
  showOptions(tagOptions(adminOptions(loadbalancer.command('create').description('create a load balancer'), true)))
    .option('--name <name>', 'new load balancer name')
    .option('--description <description>', 'load balancer description')
    .option('--vip-address <vip_address>', 'the VIP address')
    .option('--vip-port-id <vip_port_id>', 'port for the VIP (name or ID)')
    .option('--vip-subnet-id <vip_subnet_id>', 'subnet of the VIP (name or ID)')
    .option('--vip-network-id <vip_network_id>', 'network of the VIP (name or ID)')
    .option('--vip-qos-policy-id <vip_qos_policy_id>', 'QoS policy of the VIP port')
    .option('--project <project>', 'project of the load balancer (name or ID)')
    .option('--provider <provider>', 'provider of the load balancer')
    .option('--availability-zone <availability_zone>', 'availability zone of the load balancer')
    .option('--wait', 'wait for the load balancer to be ACTIVE')
    .action(async (o: LbOptions, cmd: Command) => {
      const { lb, net, cloud } = await lbClient(cmd);
      const attrs: Record<string, unknown> = { ...(await commonAttrs(o)) };
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      if (o.vipAddress !== undefined) attrs.vip_address = o.vipAddress;
      if (o.vipPortId !== undefined) attrs.vip_port_id = await neutronId(net(), 'port', 'ports', o.vipPortId);
      if (o.vipSubnetId !== undefined) attrs.vip_subnet_id = await neutronId(net(), 'subnet', 'subnets', o.vipSubnetId);
      if (o.vipNetworkId !== undefined) attrs.vip_network_id = await neutronId(net(), 'network', 'networks', o.vipNetworkId);
      if (o.vipQosPolicyId !== undefined) attrs.vip_qos_policy_id = await neutronId(net(), 'qos-policy', 'policies', o.vipQosPolicyId);
      if (o.project !== undefined) attrs.project_id = await projectId(cloud, o.project);
      if (o.provider !== undefined) attrs.provider = o.provider;
      if (o.availabilityZone !== undefined) attrs.availability_zone = o.availabilityZone;
      // octaviaclient sends admin_state_up true unless --disable.
      attrs.admin_state_up ??= true;
      if (!('vip_subnet_id' in attrs || 'vip_network_id' in attrs || 'vip_port_id' in attrs))
        throw new ClientError('Missing required argument: Requires one of --vip-subnet-id, --vip-network-id or --vip-port-id');
      if ('vip_network_id' in attrs && 'vip_port_id' in attrs) throw new ClientError('Argument error: --vip-port-id can not be used with --vip-network-id');
      let made = await lb.create('loadbalancer', attrs);
      if (o.wait) {
        await waitForActive(() => lb.get('loadbalancer', made.id));
        made = await lb.get('loadbalancer', made.id);
      }
      await showResource(cmd, 'loadbalancer', made);
    });

  tagFilters(listOptions(adminOptions(loadbalancer.command('list').description('list load balancers'), false)))
    .option('--name <name>', 'only those of this name')
    .option('--project <project-id>', 'only those of this project (name or ID)')
    .option('--vip-network-id <vip_network_id>', 'only those on this VIP network (name or ID)')
    .option('--vip-subnet-id <vip_subnet_id>', 'only those on this VIP subnet (name or ID)')
    .option('--vip-qos-policy-id <vip_qos_policy_id>', 'only those with this VIP QoS policy (name or ID)')
    .option('--vip-port-id <vip_port_id>', 'only those with this VIP port (name or ID)')
    .addOption(new Option('--provisioning-status <status>', 'only those in this provisioning status').argParser((s: string) => s.toUpperCase()))
    .addOption(new Option('--operating-status <status>', 'only those in this operating status').argParser((s: string) => s.toUpperCase()))
    .option('--provider <provider>', 'only those of this provider')
    .option('--availability-zone <availability_zone>', 'only those in this availability zone')
    .action(async (o: LbOptions & TagFilters & { provisioningStatus?: string; operatingStatus?: string }, cmd: Command) => {
      for (const [flag, v, allowed] of [
        ['provisioning-status', o.provisioningStatus, PROVISIONING],
        ['operating-status', o.operatingStatus, OPERATING],
      ] as const)
        if (v !== undefined && !allowed.includes(v))
          throw new ClientError(`argument --${flag}: invalid choice: '${v}' (choose from ${allowed.map((x) => `'${x}'`).join(', ')})`);
      const { lb, net, cloud } = await lbClient(cmd);
      const query: Record<string, string | undefined> = {
        name: o.name,
        admin_state_up: o.enable ? 'true' : o.disable ? 'false' : undefined,
        project_id: o.project === undefined ? undefined : await projectId(cloud, o.project),
        vip_network_id: o.vipNetworkId === undefined ? undefined : await neutronId(net(), 'network', 'networks', o.vipNetworkId),
        vip_subnet_id: o.vipSubnetId === undefined ? undefined : await neutronId(net(), 'subnet', 'subnets', o.vipSubnetId),
        vip_qos_policy_id: o.vipQosPolicyId === undefined ? undefined : await neutronId(net(), 'qos-policy', 'policies', o.vipQosPolicyId),
        vip_port_id: o.vipPortId === undefined ? undefined : await neutronId(net(), 'port', 'ports', o.vipPortId),
        provisioning_status: o.provisioningStatus,
        operating_status: o.operatingStatus,
        provider: o.provider,
        availability_zone: o.availabilityZone,
        ...tagQuery(o),
      };
      const { columns } = VIEWS.loadbalancer;
      await printList(
        cmd,
        columns,
        (await lb.list('loadbalancer', query)).map((x) => properties(x, columns)),
      );
    });

  showOptions(loadbalancer.command('show').description('show a load balancer').argument('<load_balancer>', 'name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      await showResource(cmd, 'loadbalancer', await showTarget(lb, 'loadbalancer', ref));
    },
  );

  tagOptions(adminOptions(loadbalancer.command('set').description('change a load balancer').argument('<load_balancer>', 'name or ID'), false))
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .option('--vip-qos-policy-id <vip_qos_policy_id>', "QoS policy of the VIP port ('None' to unset)")
    .option('--wait', 'wait for the load balancer to be ACTIVE again')
    .action(async (ref: string, o: LbOptions, cmd: Command) => {
      const { lb, net } = await lbClient(cmd);
      const id = (await lb.find('loadbalancer', ref)).id;
      const attrs = await commonAttrs(o, () => lb.get('loadbalancer', id));
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      if (o.vipQosPolicyId !== undefined) attrs.vip_qos_policy_id = await neutronId(net(), 'qos-policy', 'policies', o.vipQosPolicyId);
      await lb.update('loadbalancer', id, attrs);
      if (o.wait) await waitForActive(() => lb.get('loadbalancer', id));
    });

  loadbalancer
    .command('delete')
    .description('delete a load balancer')
    .argument('<load_balancer>', 'name or ID')
    .option('--cascade', 'delete its listeners, pools, members and monitors too')
    .option('--wait', 'wait for the load balancer to be gone')
    .action(async (ref: string, o: { cascade?: boolean; wait?: boolean }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('loadbalancer', ref)).id;
      await lb.delete('loadbalancer', id, { cascade: o.cascade });
      if (o.wait) await waitForDelete(() => lb.get('loadbalancer', id));
    });

  loadbalancer
    .command('failover')
    .description('make a load balancer anew on its host (admin)')
    .argument('<load_balancer>', 'name or ID')
    .option('--wait', 'wait for the load balancer to be ACTIVE again')
    .action(async (ref: string, o: { wait?: boolean }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('loadbalancer', ref)).id;
      await lb.failover(id);
      if (o.wait) await waitForActive(() => lb.get('loadbalancer', id));
    });

  const stats = loadbalancer.command('stats').description("a load balancer's traffic counters");
  showOptions(stats.command('show').description("show a load balancer's counters").argument('<load_balancer>', 'name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const data = await lb.stats('loadbalancer', (await lb.find('loadbalancer', ref)).id);
      const values = properties(data, STATS);
      await printShow(cmd, Object.fromEntries(STATS.map((r, i) => [r, values[i]])));
    },
  );

  const status = loadbalancer.command('status').description("a load balancer's status tree");
  status
    .command('show')
    .description("print a load balancer's status tree as JSON")
    .argument('<load_balancer>', 'name or ID')
    .action(async (ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      // octaviaclient prints the tree as json.dumps(indent=4) whatever -f says.
      process.stdout.write(JSON.stringify(await lb.status((await lb.find('loadbalancer', ref)).id), null, 4) + '\n');
    });

  const provider = loadbalancer.command('provider').description('load-balancer providers');
  listOptions(provider.command('list').description('list the providers')).action(async (_o, cmd: Command) => {
    const { lb } = await lbClient(cmd);
    const columns = ['name', 'description'];
    await printList(
      cmd,
      columns,
      (await lb.providers()).map((p) => properties(p, columns)),
    );
  });

  registerListener(loadbalancer.command('listener').description('listeners: the ports a load balancer takes traffic on'));
  registerPool(loadbalancer.command('pool').description('pools: the groups of members a listener sends traffic to'));
  registerMember(loadbalancer.command('member').description("members: a pool's servers"));
  registerMonitor(loadbalancer.command('healthmonitor').description("health monitors: how a pool's members are checked"));
  registerL7(loadbalancer);
}
