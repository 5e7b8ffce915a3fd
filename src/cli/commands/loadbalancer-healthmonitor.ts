import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { listOptions, printList, showOptions } from '../output.ts';
import {
  VIEWS,
  adminOptions,
  commonAttrs,
  int,
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

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const TYPES = ['PING', 'HTTP', 'TCP', 'HTTPS', 'TLS-HELLO', 'UDP-CONNECT', 'SCTP'];

interface MonitorOptions {
  name?: string;
  delay?: number;
  domainName?: string;
  expectedCodes?: string;
  httpMethod?: string;
  httpVersion?: number;
  timeout?: number;
  maxRetries?: number;
  maxRetriesDown?: number;
  urlPath?: string;
  type?: string;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

/** max-retries and max-retries-down: argparse's choices range(1, 10). */
function retries(name: string) {
  const parse = int(name);
  return (v: string) => {
    const n = parse(v);
    if (n < 1 || n > 9) throw new ClientError(`argument --${name}: invalid choice: ${n} (choose from 1, 2, 3, 4, 5, 6, 7, 8, 9)`);
    return n;
  };
}

function httpVersion(v: string): number {
  const n = Number(v);
  if (n !== 1 && n !== 1.1) throw new ClientError(`argument --http-version: invalid choice: ${v} (choose from 1.0, 1.1)`);
  return n;
}

function options(cmd: Command, create: boolean): Command {
  const c = tagOptions(adminOptions(cmd, create)).option('--name <name>', 'monitor name');
  (create ? c.requiredOption.bind(c) : c.option.bind(c))('--delay <delay>', 'seconds between checks', int('delay'));
  c.option('--domain-name <domain_name>', 'Host header of HTTP checks')
    .option('--expected-codes <codes>', 'HTTP codes of a healthy member: 200, 200,202 or 200-204')
    .option('--http-method <method>', `HTTP method of checks: ${METHODS.join(', ')}`, upper('http-method', METHODS))
    .option('--http-version <http_version>', 'HTTP version of checks: 1.0 or 1.1', httpVersion);
  (create ? c.requiredOption.bind(c) : c.option.bind(c))('--timeout <timeout>', 'seconds a check may take', int('timeout'));
  (create ? c.requiredOption.bind(c) : c.option.bind(c))(
    '--max-retries <max_retries>',
    'successful checks before a member is ONLINE, 1-9',
    retries('max-retries'),
  );
  return c
    .option('--url-path <url_path>', 'path HTTP checks request')
    .option('--max-retries-down <max_retries_down>', 'failed checks before a member is ERROR, 1-9', retries('max-retries-down'))
    .option('--wait', 'wait for the change to be ACTIVE');
}

function attrsOf(o: MonitorOptions, attrs: Record<string, unknown>): Record<string, unknown> {
  if (o.name !== undefined) attrs.name = o.name;
  if (o.delay !== undefined) attrs.delay = o.delay;
  if (o.expectedCodes !== undefined) attrs.expected_codes = o.expectedCodes;
  if (o.maxRetries !== undefined) attrs.max_retries = o.maxRetries;
  if (o.httpMethod !== undefined) attrs.http_method = o.httpMethod;
  if (o.type !== undefined) attrs.type = o.type;
  if (o.timeout !== undefined) attrs.timeout = o.timeout;
  if (o.maxRetriesDown !== undefined) attrs.max_retries_down = o.maxRetriesDown;
  if (o.urlPath !== undefined) attrs.url_path = o.urlPath;
  if (o.httpVersion !== undefined) attrs.http_version = o.httpVersion;
  if (o.domainName !== undefined) attrs.domain_name = o.domainName;
  return attrs;
}

export function register(monitor: Command): void {
  showOptions(options(monitor.command('create').description("create a pool's health monitor").argument('<pool>', 'pool (name or ID)'), true))
    .requiredOption('--type <type>', `check: ${TYPES.join(', ')}`, upper('type', TYPES))
    .action(async (poolRef: string, o: MonitorOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const attrs = attrsOf(o, await commonAttrs(o));
      attrs.pool_id = (await lb.find('pool', poolRef)).id;
      attrs.admin_state_up ??= true;
      let made = await lb.create('healthmonitor', attrs);
      if (o.wait) {
        const pool = await lb.get('pool', (made.pools as { id: string }[])[0]!.id);
        await waitForActive(() => lb.get('loadbalancer', (pool.loadbalancers as { id: string }[])[0]!.id));
        made = await lb.get('healthmonitor', made.id);
      }
      await showResource(cmd, 'healthmonitor', made);
    });

  tagFilters(listOptions(monitor.command('list').description('list health monitors'))).action(async (o: TagFilters, cmd: Command) => {
    const { lb } = await lbClient(cmd);
    const { columns, formatters } = VIEWS.healthmonitor;
    await printList(
      cmd,
      columns,
      (await lb.list('healthmonitor', tagQuery(o))).map((x) => properties(x, columns, formatters)),
    );
  });

  showOptions(monitor.command('show').description('show a health monitor').argument('<health_monitor>', 'name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      await showResource(cmd, 'healthmonitor', await showTarget(lb, 'healthmonitor', ref));
    },
  );

  options(monitor.command('set').description('change a health monitor').argument('<health_monitor>', 'name or ID'), false).action(
    async (ref: string, o: MonitorOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('healthmonitor', ref)).id;
      await lb.update('healthmonitor', id, attrsOf(o, await commonAttrs(o, () => lb.get('healthmonitor', id))));
      if (o.wait) await waitForActive(() => lb.get('healthmonitor', id));
    },
  );

  registerDelete(monitor, 'healthmonitor', 'health monitor', 'health_monitor');
}
