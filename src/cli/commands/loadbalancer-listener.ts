import type { Command } from 'commander';
import type { LoadBalancerClient } from '../../client/loadbalancer.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import {
  STATS,
  VIEWS,
  adminOptions,
  append,
  checkPort,
  commonAttrs,
  int,
  keyValues,
  lbClient,
  projectId,
  properties,
  showResource,
  showTarget,
  tagFilters,
  tagOptions,
  tagQuery,
  type TagFilters,
  upper,
  waitForActive,
  registerDelete,
} from './loadbalancer-common.ts';

const PROTOCOLS = ['TCP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS', 'UDP', 'SCTP', 'PROMETHEUS'];

interface ListenerOptions {
  name?: string;
  description?: string;
  protocol?: string;
  protocolPort?: number;
  connectionLimit?: number;
  defaultPool?: string;
  insertHeaders?: string;
  timeoutClientData?: number;
  timeoutMemberConnect?: number;
  timeoutMemberData?: number;
  timeoutTcpInspect?: number;
  allowedCidr?: string[];
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

function options(cmd: Command): Command {
  return tagOptions(adminOptions(cmd, cmd.name() === 'create'))
    .option('--name <name>', 'listener name')
    .option('--description <description>', 'listener description')
    .option('--connection-limit <limit>', 'maximum connections at once (-1: no limit)', int('connection-limit'))
    .option('--default-pool <pool>', 'pool that takes traffic no L7 policy sends elsewhere (name or ID)')
    .option('--insert-headers <header=value,...>', 'headers to add to requests sent to members')
    .option('--timeout-client-data <timeout>', 'client inactivity timeout, ms', int('timeout-client-data'))
    .option('--timeout-member-connect <timeout>', 'member connection timeout, ms', int('timeout-member-connect'))
    .option('--timeout-member-data <timeout>', 'member inactivity timeout, ms', int('timeout-member-data'))
    .option('--timeout-tcp-inspect <timeout>', 'time to wait for TCP content inspection, ms', int('timeout-tcp-inspect'))
    .option('--allowed-cidr <allowed_cidr>', 'a CIDR allowed to reach the listener (repeat for several)', append)
    .option('--wait', 'wait for the change to be ACTIVE');
}

async function attrsOf(lb: LoadBalancerClient, o: ListenerOptions, current?: () => Promise<Record<string, unknown> & { id: string }>) {
  const attrs = await commonAttrs(o, current);
  if (o.name !== undefined) attrs.name = o.name;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.protocol !== undefined) attrs.protocol = o.protocol;
  if (o.protocolPort !== undefined) attrs.protocol_port = o.protocolPort;
  // An integer, as Octavia's API documents it (octaviaclient sends the string it was given).
  if (o.connectionLimit !== undefined) attrs.connection_limit = o.connectionLimit;
  if (o.defaultPool !== undefined) attrs.default_pool_id = (await lb.find('pool', o.defaultPool)).id;
  if (o.insertHeaders !== undefined) attrs.insert_headers = keyValues(o.insertHeaders);
  if (o.timeoutClientData !== undefined) attrs.timeout_client_data = o.timeoutClientData;
  if (o.timeoutMemberConnect !== undefined) attrs.timeout_member_connect = o.timeoutMemberConnect;
  if (o.timeoutMemberData !== undefined) attrs.timeout_member_data = o.timeoutMemberData;
  if (o.timeoutTcpInspect !== undefined) attrs.timeout_tcp_inspect = o.timeoutTcpInspect;
  if (o.allowedCidr !== undefined) attrs.allowed_cidrs = o.allowedCidr;
  checkPort(o.protocolPort);
  return attrs;
}

export function register(listener: Command): void {
  showOptions(options(listener.command('create').description('create a listener').argument('<loadbalancer>', 'load balancer (name or ID)')))
    .requiredOption('--protocol <protocol>', `protocol: ${PROTOCOLS.join(', ')}`, upper('protocol', PROTOCOLS))
    .requiredOption('--protocol-port <port>', 'port to listen on', int('protocol-port'))
    .action(async (lbRef: string, o: ListenerOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const attrs = await attrsOf(lb, o);
      attrs.loadbalancer_id = (await lb.find('loadbalancer', lbRef)).id;
      attrs.admin_state_up ??= true;
      let made = await lb.create('listener', attrs);
      if (o.wait) {
        await waitForActive(() => lb.get('loadbalancer', attrs.loadbalancer_id as string));
        made = await lb.get('listener', made.id);
      }
      await showResource(cmd, 'listener', made);
    });

  tagFilters(listOptions(adminOptions(listener.command('list').description('list listeners'), false)))
    .option('--name <name>', 'only those of this name')
    .option('--loadbalancer <loadbalancer>', 'only those of this load balancer (name or ID)')
    .option('--project <project>', 'only those of this project (name or ID)')
    .action(async (o: TagFilters & { name?: string; loadbalancer?: string; project?: string; enable?: boolean; disable?: boolean }, cmd: Command) => {
      const { lb, cloud } = await lbClient(cmd);
      const query = {
        name: o.name,
        loadbalancer_id: o.loadbalancer === undefined ? undefined : (await lb.find('loadbalancer', o.loadbalancer)).id,
        project_id: o.project === undefined ? undefined : await projectId(cloud, o.project),
        admin_state_up: o.enable ? 'true' : o.disable ? 'false' : undefined,
        ...tagQuery(o),
      };
      const { columns, formatters } = VIEWS.listener;
      await printList(
        cmd,
        columns,
        (await lb.list('listener', query)).map((x) => properties(x, columns, formatters)),
      );
    });

  showOptions(listener.command('show').description('show a listener').argument('<listener>', 'name or ID')).action(async (ref: string, _o, cmd: Command) => {
    const { lb } = await lbClient(cmd);
    await showResource(cmd, 'listener', await showTarget(lb, 'listener', ref));
  });

  options(listener.command('set').description('change a listener').argument('<listener>', 'name or ID')).action(
    async (ref: string, o: ListenerOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('listener', ref)).id;
      await lb.update('listener', id, await attrsOf(lb, o, () => lb.get('listener', id)));
      if (o.wait) await waitForActive(() => lb.get('listener', id));
    },
  );

  registerDelete(listener, 'listener', 'listener', 'listener');

  const stats = listener.command('stats').description("a listener's traffic counters");
  showOptions(stats.command('show').description("show a listener's counters").argument('<listener>', 'name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const values = properties(await lb.stats('listener', (await lb.find('listener', ref)).id), STATS);
      await printShow(cmd, Object.fromEntries(STATS.map((r, i) => [r, values[i]])));
    },
  );
}
