import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import type { LoadBalancerClient } from '../../client/loadbalancer.ts';
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
  waitForDelete,
  registerDelete,
} from './loadbalancer-common.ts';

// L7 policies and rules as Octavia's API documents them (/lbaas/l7policies, …/{id}/rules).

const ACTIONS = ['REDIRECT_TO_URL', 'REDIRECT_TO_POOL', 'REDIRECT_PREFIX', 'REJECT'];
const REDIRECT_CODES = [301, 302, 303, 307, 308];
const COMPARE_TYPES = ['REGEX', 'EQUAL_TO', 'CONTAINS', 'ENDS_WITH', 'STARTS_WITH'];
const RULE_TYPES = ['FILE_TYPE', 'PATH', 'COOKIE', 'HOST_NAME', 'HEADER', 'SSL_CONN_HAS_CERT', 'SSL_VERIFY_RESULT', 'SSL_DN_FIELD'];

interface PolicyOptions {
  name?: string;
  description?: string;
  action?: string;
  redirectPool?: string;
  redirectUrl?: string;
  redirectPrefix?: string;
  redirectHttpCode?: number;
  position?: number;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

interface RuleOptions {
  compareType?: string;
  invert?: boolean;
  value?: string;
  key?: string;
  type?: string;
  enable?: boolean;
  disable?: boolean;
  tag?: string[] | false;
  wait?: boolean;
}

function redirectCode(v: string): number {
  const n = int('redirect-http-code')(v);
  if (!REDIRECT_CODES.includes(n)) throw new ClientError(`argument --redirect-http-code: invalid choice: ${n} (choose from ${REDIRECT_CODES.join(', ')})`);
  return n;
}

function policyOptions(cmd: Command, create: boolean): Command {
  const c = tagOptions(adminOptions(cmd, create)).option('--name <name>', 'policy name').option('--description <description>', 'policy description');
  (create ? c.requiredOption.bind(c) : c.option.bind(c))('--action <action>', `what matching requests get: ${ACTIONS.join(', ')}`, upper('action', ACTIONS));
  return c
    .option('--redirect-pool <pool>', 'pool matching requests go to (name or ID)')
    .option('--redirect-url <url>', 'URL matching requests are redirected to')
    .option('--redirect-prefix <url>', 'URL prefix matching requests are redirected to')
    .option('--redirect-http-code <code>', `redirect status: ${REDIRECT_CODES.join(', ')}`, redirectCode)
    .option('--position <position>', "the policy's place among the listener's", int('position'))
    .option('--wait', 'wait for the change to be ACTIVE');
}

async function policyAttrs(lb: LoadBalancerClient, o: PolicyOptions, attrs: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (o.name !== undefined) attrs.name = o.name;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.action !== undefined) attrs.action = o.action;
  if (o.redirectPool !== undefined) attrs.redirect_pool_id = (await lb.find('pool', o.redirectPool)).id;
  if (o.redirectUrl !== undefined) attrs.redirect_url = o.redirectUrl;
  if (o.redirectPrefix !== undefined) attrs.redirect_prefix = o.redirectPrefix;
  if (o.redirectHttpCode !== undefined) attrs.redirect_http_code = o.redirectHttpCode;
  if (o.position !== undefined) attrs.position = o.position;
  const missing = {
    REDIRECT_TO_POOL: ['redirect_pool_id', '--redirect-pool'],
    REDIRECT_TO_URL: ['redirect_url', '--redirect-url'],
    REDIRECT_PREFIX: ['redirect_prefix', '--redirect-prefix'],
  }[o.action ?? ''];
  if (missing && !(missing[0]! in attrs)) throw new ClientError(`Missing argument: ${missing[1]}`);
  return attrs;
}

function ruleOptions(cmd: Command, create: boolean): Command {
  const c = tagOptions(adminOptions(cmd, create));
  const option = (create ? c.requiredOption : c.option).bind(c);
  option('--compare-type <compare_type>', `how the value is compared: ${COMPARE_TYPES.join(', ')}`, upper('compare-type', COMPARE_TYPES));
  c.option('--invert', 'match what does not compare');
  option('--value <value>', 'the value compared');
  c.option('--key <key>', 'the header or cookie compared');
  option('--type <type>', `what is compared: ${RULE_TYPES.join(', ')}`, upper('type', RULE_TYPES));
  return c.option('--wait', 'wait for the change to be ACTIVE');
}

function ruleAttrs(o: RuleOptions, attrs: Record<string, unknown>): Record<string, unknown> {
  if (o.compareType !== undefined) attrs.compare_type = o.compareType;
  if (o.invert) attrs.invert = true;
  if (o.value !== undefined) attrs.value = o.value;
  if (o.key !== undefined) attrs.key = o.key;
  if (o.type !== undefined) attrs.type = o.type;
  if ((o.type === 'COOKIE' || o.type === 'HEADER') && o.key === undefined) throw new ClientError(`Missing argument: --type ${o.type} requires --key <key>`);
  return attrs;
}

/** The load balancer an L7 policy's changes wait on: its listener's. */
async function policyLoadBalancer(lb: LoadBalancerClient, policyId: string): Promise<string> {
  const listener = await lb.get('listener', (await lb.get('l7policy', policyId)).listener_id as string);
  return (listener.loadbalancers as { id: string }[])[0]!.id;
}

export function register(loadbalancer: Command): void {
  const policy = loadbalancer.command('l7policy').description('L7 policies: what a listener does with requests that match their rules');
  showOptions(policyOptions(policy.command('create').description('create an L7 policy').argument('<listener>', 'listener (name or ID)'), true)).action(
    async (listenerRef: string, o: PolicyOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const attrs = await policyAttrs(lb, o, await commonAttrs(o));
      attrs.listener_id = (await lb.find('listener', listenerRef)).id;
      attrs.admin_state_up ??= true;
      let made = await lb.create('l7policy', attrs);
      if (o.wait) {
        const lbId = await policyLoadBalancer(lb, made.id);
        await waitForActive(() => lb.get('loadbalancer', lbId));
        made = await lb.get('l7policy', made.id);
      }
      await showResource(cmd, 'l7policy', made);
    },
  );

  tagFilters(listOptions(policy.command('list').description('list L7 policies')))
    .option('--listener <listener>', 'only those of this listener (name or ID)')
    .action(async (o: TagFilters & { listener?: string }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const query = { listener_id: o.listener === undefined ? undefined : (await lb.find('listener', o.listener)).id, ...tagQuery(o) };
      const { columns } = VIEWS.l7policy;
      await printList(
        cmd,
        columns,
        (await lb.list('l7policy', query)).map((x) => properties(x, columns)),
      );
    });

  showOptions(policy.command('show').description('show an L7 policy').argument('<policy>', 'name or ID')).action(async (ref: string, _o, cmd: Command) => {
    const { lb } = await lbClient(cmd);
    await showResource(cmd, 'l7policy', await showTarget(lb, 'l7policy', ref));
  });

  policyOptions(policy.command('set').description('change an L7 policy').argument('<policy>', 'name or ID'), false).action(
    async (ref: string, o: PolicyOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find('l7policy', ref)).id;
      await lb.update('l7policy', id, await policyAttrs(lb, o, await commonAttrs(o, () => lb.get('l7policy', id))));
      if (o.wait) await waitForActive(() => lb.get('l7policy', id));
    },
  );

  registerDelete(policy, 'l7policy', 'L7 policy', 'policy');

  const rule = loadbalancer.command('l7rule').description('L7 rules: what a request must match for its policy to apply');
  showOptions(ruleOptions(rule.command('create').description('add a rule to an L7 policy').argument('<l7policy>', 'policy (name or ID)'), true)).action(
    async (policyRef: string, o: RuleOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const policyId = (await lb.find('l7policy', policyRef)).id;
      const attrs = ruleAttrs(o, await commonAttrs(o));
      attrs.admin_state_up ??= true;
      let made = await lb.create('l7rule', attrs, policyId);
      if (o.wait) {
        const lbId = await policyLoadBalancer(lb, policyId);
        await waitForActive(() => lb.get('loadbalancer', lbId));
        made = await lb.get('l7rule', made.id, policyId);
      }
      await showResource(cmd, 'l7rule', made);
    },
  );

  tagFilters(listOptions(rule.command('list').description("list an L7 policy's rules").argument('<l7policy>', 'policy (name or ID)'))).action(
    async (policyRef: string, o: TagFilters, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const policyId = (await lb.find('l7policy', policyRef)).id;
      const { columns } = VIEWS.l7rule;
      await printList(
        cmd,
        columns,
        (await lb.list('l7rule', tagQuery(o), policyId)).map((x) => properties(x, columns)),
      );
    },
  );

  showOptions(rule.command('show').description('show an L7 rule').argument('<l7policy>', 'policy (name or ID)').argument('<l7rule>', 'rule ID')).action(
    async (policyRef: string, ref: string, _o, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const policyId = (await lb.find('l7policy', policyRef)).id;
      await showResource(cmd, 'l7rule', await showTarget(lb, 'l7rule', ref, policyId));
    },
  );

  ruleOptions(rule.command('set').description('change an L7 rule').argument('<l7policy>', 'policy (name or ID)').argument('<l7rule>', 'rule ID'), false).action(
    async (policyRef: string, ref: string, o: RuleOptions, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const policyId = (await lb.find('l7policy', policyRef)).id;
      const id = (await lb.find('l7rule', ref, policyId)).id;
      await lb.update('l7rule', id, ruleAttrs(o, await commonAttrs(o, () => lb.get('l7rule', id, policyId))), policyId);
      if (o.wait) await waitForActive(() => lb.get('l7rule', id, policyId));
    },
  );

  rule
    .command('delete')
    .description('delete an L7 rule')
    .argument('<l7policy>', 'policy (name or ID)')
    .argument('<l7rule>', 'rule ID')
    .option('--wait', 'wait for the rule to be gone')
    .action(async (policyRef: string, ref: string, o: { wait?: boolean }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const policyId = (await lb.find('l7policy', policyRef)).id;
      const id = (await lb.find('l7rule', ref, policyId)).id;
      await lb.delete('l7rule', id, { parent: policyId });
      if (o.wait) await waitForDelete(() => lb.get('l7rule', id, policyId));
    });
}
