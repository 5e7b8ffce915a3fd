import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { uuidLike } from '../../client/loadbalancer.ts';
import { listOptions, printList, showOptions } from '../output.ts';
import {
  VIEWS,
  adminOptions,
  checkPort,
  commonAttrs,
  int,
  lbClient,
  neutronId,
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

interface MemberOptions {
  name?: string;
  address?: string;
  subnetId?: string;
  protocolPort?: number;
  weight?: number;
  monitorPort?: number;
  monitorAddress?: string;
  enableBackup?: boolean;
  disableBackup?: boolean;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

function options(cmd: Command): Command {
  return tagOptions(adminOptions(cmd, cmd.name() === 'create'))
    .option('--name <name>', 'member name')
    .addOption(new Option('--disable-backup', 'a member like the others (default)'))
    .addOption(new Option('--enable-backup', 'a member that takes traffic only when the others are down').conflicts('disableBackup'))
    .option('--weight <weight>', 'its share of the traffic, 0 to 256', int('weight'))
    .option('--monitor-port <monitor_port>', 'port the health monitor checks instead', int('monitor-port'))
    .option('--monitor-address <monitor_address>', 'address the health monitor checks instead')
    .option('--wait', 'wait for the change to be ACTIVE');
}

function attrsOf(o: MemberOptions, attrs: Record<string, unknown>): Record<string, unknown> {
  if (o.name !== undefined) attrs.name = o.name;
  if (o.address !== undefined) attrs.address = o.address;
  if (o.protocolPort !== undefined) attrs.protocol_port = o.protocolPort;
  if (o.enableBackup) attrs.backup = true;
  if (o.disableBackup) attrs.backup = false;
  if (o.weight !== undefined) attrs.weight = o.weight;
  if (o.monitorPort !== undefined) attrs.monitor_port = o.monitorPort;
  if (o.monitorAddress !== undefined) attrs.monitor_address = o.monitorAddress;
  checkPort(o.protocolPort);
  if (o.weight !== undefined && (o.weight < 0 || o.weight > 256))
    throw new ClientError(`Invalid input for field/attribute 'weight', Value: '${o.weight}'. Value must be between 0 and 256.`);
  return attrs;
}

export function register(member: Command): void {
  showOptions(options(member.command('create').description('add a member to a pool').argument('<pool>', 'pool (name or ID)')))
    .requiredOption('--address <ip_address>', "the member's IP address")
    .option('--subnet-id <subnet_id>', 'subnet the member is reached on (name or ID)')
    .requiredOption('--protocol-port <protocol_port>', 'port the member serves on', int('protocol-port'))
    .action(async (poolRef: string, o: MemberOptions, cmd: Command) => {
      const { lb, net } = await lbClient(cmd);
      const poolId = (await lb.find('pool', poolRef)).id;
      const attrs = attrsOf(o, await commonAttrs(o));
      if (o.subnetId !== undefined) attrs.subnet_id = await neutronId(net(), 'subnet', 'subnets', o.subnetId);
      attrs.admin_state_up ??= true;
      let made = await lb.create('member', attrs, poolId);
      if (o.wait) {
        const pool = await lb.get('pool', poolId);
        await waitForActive(() => lb.get('loadbalancer', (pool.loadbalancers as { id: string }[])[0]!.id));
        made = await lb.get('member', made.id, poolId);
      }
      await showResource(cmd, 'member', made);
    });

  tagFilters(listOptions(member.command('list').description("list a pool's members").argument('<pool>', 'pool (name or ID)'))).action(
    async (poolRef: string, o: TagFilters, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const poolId = (await lb.find('pool', poolRef)).id;
      const { columns } = VIEWS.member;
      await printList(
        cmd,
        columns,
        (await lb.list('member', tagQuery(o), poolId)).map((x) => properties(x, columns)),
      );
    },
  );

  showOptions(member.command('show').description('show a member').argument('<pool>', 'pool (name or ID)').argument('<member>', 'name or ID')).action(
    async (poolRef: string, ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      // Both IDs: shown directly, as octaviaclient does; otherwise the pool is looked up first.
      const poolId = uuidLike(poolRef) && uuidLike(ref) ? poolRef : (await lb.find('pool', poolRef)).id;
      await showResource(cmd, 'member', await showTarget(lb, 'member', ref, poolId));
    },
  );

  options(member.command('set').description('change a member').argument('<pool>', 'pool (name or ID)').argument('<member>', 'name or ID')).action(
    async (poolRef: string, ref: string, o: MemberOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const poolId = (await lb.find('pool', poolRef)).id;
      const id = (await lb.find('member', ref, poolId)).id;
      await lb.update('member', id, attrsOf(o, await commonAttrs(o, () => lb.get('member', id, poolId))), poolId);
      if (o.wait) await waitForActive(() => lb.get('member', id, poolId));
    },
  );

  member
    .command('delete')
    .description('take a member out of its pool')
    .argument('<pool>', 'pool (name or ID)')
    .argument('<member>', 'name or ID')
    .option('--wait', 'wait for the member to be gone')
    .action(async (poolRef: string, ref: string, o: { wait?: boolean }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const poolId = (await lb.find('pool', poolRef)).id;
      const id = (await lb.find('member', ref, poolId)).id;
      await lb.delete('member', id, { parent: poolId });
      if (o.wait) await waitForDelete(() => lb.get('member', id, poolId));
    });
}
