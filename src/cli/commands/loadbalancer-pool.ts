import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { listOptions, printList, showOptions } from '../output.ts';
import {
  VIEWS,
  adminOptions,
  commonAttrs,
  keyValues,
  lbClient,
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

const PROTOCOLS = ['TCP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS', 'PROXY', 'PROXYV2', 'UDP', 'SCTP'];
const ALGORITHMS = ['SOURCE_IP', 'ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP_PORT'];

interface PoolOptions {
  name?: string;
  description?: string;
  protocol?: string;
  listener?: string;
  loadbalancer?: string;
  sessionPersistence?: string;
  lbAlgorithm?: string;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

function options(cmd: Command): Command {
  return tagOptions(adminOptions(cmd, cmd.name() === 'create'))
    .option('--name <name>', 'pool name')
    .option('--description <description>', 'pool description')
    .option('--session-persistence <session_persistence>', 'session persistence: type=SOURCE_IP|HTTP_COOKIE|APP_COOKIE[,cookie_name=…]')
    .option('--wait', 'wait for the change to be ACTIVE');
}

export function register(pool: Command): void {
  showOptions(options(pool.command('create').description('create a pool')))
    .requiredOption('--protocol <protocol>', `protocol: ${PROTOCOLS.join(', ')}`, upper('protocol', PROTOCOLS))
    .requiredOption('--lb-algorithm <lb_algorithm>', `algorithm: ${ALGORITHMS.join(', ')}`, upper('lb-algorithm', ALGORITHMS))
    .option('--listener <listener>', 'listener whose default pool it is (name or ID)')
    .addOption(new Option('--loadbalancer <load_balancer>', 'load balancer of the pool (name or ID)').conflicts('listener'))
    .action(async (o: PoolOptions, cmd: Command) => {
      if (!o.listener && !o.loadbalancer) throw new ClientError('one of the arguments --listener --loadbalancer is required');
      const { lb } = await lbClient(cmd);
      const attrs = await commonAttrs(o);
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      attrs.protocol = o.protocol;
      if (o.listener !== undefined) attrs.listener_id = (await lb.find('listener', o.listener)).id;
      if (o.loadbalancer !== undefined) attrs.loadbalancer_id = (await lb.find('loadbalancer', o.loadbalancer)).id;
      if (o.sessionPersistence !== undefined) attrs.session_persistence = keyValues(o.sessionPersistence);
      attrs.lb_algorithm = o.lbAlgorithm;
      attrs.admin_state_up ??= true;
      let made = await lb.create('pool', attrs);
      if (o.wait) {
        await waitForActive(() => lb.get('loadbalancer', (made.loadbalancers as { id: string }[])[0]!.id));
        made = await lb.get('pool', made.id);
      }
      await showResource(cmd, 'pool', made);
    });

  tagFilters(listOptions(pool.command('list').description('list pools')))
    .option('--loadbalancer <loadbalancer>', 'only those of this load balancer (name or ID)')
    .action(async (o: TagFilters & { loadbalancer?: string }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const query = { loadbalancer_id: o.loadbalancer === undefined ? undefined : (await lb.find('loadbalancer', o.loadbalancer)).id, ...tagQuery(o) };
      const { columns, formatters } = VIEWS.pool;
      await printList(
        cmd,
        columns,
        (await lb.list('pool', query)).map((x) => properties(x, columns, formatters)),
      );
    });

  showOptions(pool.command('show').description('show a pool').argument('<pool>', 'name or ID')).action(async (ref: string, _o, cmd: Command) => {
    const { lb } = await lbClient(cmd);
    await showResource(cmd, 'pool', await showTarget(lb, 'pool', ref));
  });

  options(pool.command('set').description('change a pool').argument('<pool>', 'name or ID'))
    .option('--lb-algorithm <lb_algorithm>', `algorithm: ${ALGORITHMS.join(', ')}`, upper('lb-algorithm', ALGORITHMS))
    .action(async (ref: string, o: PoolOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('pool', ref)).id;
      const attrs = await commonAttrs(o, () => lb.get('pool', id));
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      if (o.sessionPersistence !== undefined) attrs.session_persistence = keyValues(o.sessionPersistence);
      if (o.lbAlgorithm !== undefined) attrs.lb_algorithm = o.lbAlgorithm;
      await lb.update('pool', id, attrs);
      if (o.wait) await waitForActive(() => lb.get('pool', id));
    });

  registerDelete(pool, 'pool', 'pool', 'pool');
}
