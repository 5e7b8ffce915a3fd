import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, type NetworkQuery, type Resource } from '../../client/network.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { rows, showFields, type Field } from './network-columns.ts';
import { findProject } from './project.ts';

// `network qos policy …`, `network qos rule …` and `network qos rule type …`, as openstackclient
// prints them.

/** openstacksdk's QoSPolicy, as `network qos policy show` names its attributes. */
const POLICY: Field[] = [
  { column: 'description' },
  { column: 'id' },
  { column: 'is_default' },
  { column: 'name' },
  { column: 'project_id', alias: 'tenant_id' },
  { column: 'rules' },
  { column: 'shared' },
  { column: 'tags', fallback: [] },
];

/** Each rule type's openstacksdk attributes, and the option that must be given to create one. */
const RULES = {
  'bandwidth-limit': { path: 'bandwidth_limit', columns: ['direction', 'id', 'max_burst_kbps', 'max_kbps', 'name'], required: ['max_kbps'] },
  'dscp-marking': { path: 'dscp_marking', columns: ['dscp_mark', 'id', 'name'], required: ['dscp_mark'] },
  'minimum-bandwidth': { path: 'minimum_bandwidth', columns: ['direction', 'id', 'min_kbps', 'name'], required: ['direction', 'min_kbps'] },
} as const;
type RuleType = keyof typeof RULES;
const typeOf = (apiType: string) => (Object.keys(RULES) as RuleType[]).find((t) => RULES[t].path === apiType);

interface PolicyOptions {
  name?: string;
  description?: string;
  /** --share, or false for --no-share (commander's negatable pair). */
  share?: boolean;
  default?: boolean;
  project?: string;
  projectDomain?: string;
}

function policyAttrs(o: PolicyOptions): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (o.name !== undefined) attrs.name = o.name;
  if (o.description !== undefined) attrs.description = o.description;
  if (o.share !== undefined) attrs.shared = o.share;
  if (o.default !== undefined) attrs.is_default = o.default;
  return attrs;
}

const policyFlags = (cmd: Command) =>
  cmd
    .option('--description <description>', 'description of the QoS policy')
    .option('--share', 'make the QoS policy accessible by other projects')
    .option('--no-share', 'make the QoS policy not accessible by other projects')
    .option('--default', "set this QoS policy as the project's default")
    .option('--no-default', "set this QoS policy as not the project's default");

interface RuleOptions {
  type?: RuleType;
  maxKbps?: string;
  maxBurstKbits?: string;
  dscpMark?: string;
  minKbps?: string;
  ingress?: boolean;
  egress?: boolean;
}

/** The rule's body, checked against its type as openstackclient checks it. */
function ruleAttrs(type: RuleType, o: RuleOptions, creating: boolean): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (o.maxKbps !== undefined) attrs.max_kbps = Number(o.maxKbps);
  if (o.maxBurstKbits !== undefined) attrs.max_burst_kbps = Number(o.maxBurstKbits);
  if (o.dscpMark !== undefined) attrs.dscp_mark = Number(o.dscpMark);
  if (o.minKbps !== undefined) attrs.min_kbps = Number(o.minKbps);
  if (o.ingress) attrs.direction = 'ingress';
  if (o.egress) attrs.direction = 'egress';
  const required = RULES[type].required.filter((k) => k !== 'direction' || type === 'minimum-bandwidth');
  if (creating && required.some((k) => attrs[k] === undefined))
    throw new ClientError(`"Create" rule command for type "${type}" requires arguments: ${[...required].sort().join(', ')}`);
  const allowed: string[] = [...RULES[type].columns];
  if (Object.keys(attrs).some((k) => !allowed.includes(k)))
    throw new ClientError(`Rule type "${type}" only requires arguments: ${allowed.filter((k) => k !== 'id' && k !== 'name').sort().join(', ')}`);
  return attrs;
}

const ruleFlags = (cmd: Command) =>
  cmd
    .option('--max-kbps <max-kbps>', 'maximum bandwidth in kbps')
    .option('--max-burst-kbits <max-burst-kbits>', 'maximum burst in kilobits, 0 or not given means automatic')
    .option('--dscp-mark <dscp-mark>', 'DSCP mark: 0, or an even number from 8 to 56 but 42, 44 and 50 to 54')
    .option('--min-kbps <min-kbps>', 'minimum guaranteed bandwidth in kbps')
    .option('--ingress', 'ingress traffic direction from the project point of view')
    .addOption(new Option('--egress', 'egress traffic direction from the project point of view').conflicts('ingress'));

const ruleFields = (type: RuleType): Field[] => RULES[type].columns.map((column) => ({ column }));

/** The rule of a policy by ID, with its type, as openstackclient looks it up in the policy's rules. */
function ruleIn(policy: Resource, id: string): RuleType | undefined {
  const rule = ((policy.rules ?? []) as { id: string; type: string }[]).find((r) => r.id === id);
  return rule && typeOf(rule.type);
}

const rulePath = (policy: Resource, type: RuleType, id?: string) =>
  `/qos/policies/${encodeURIComponent(policy.id)}/${RULES[type].path}_rules${id ? `/${encodeURIComponent(id)}` : ''}`;

/** openstackclient wraps a rule command's failure in a sentence of its own. */
async function wrapped<T>(prefix: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ClientError) throw new ClientError(`${prefix}: ${err.message}`);
    throw err;
  }
}

function registerPolicy(policy: Command): void {
  showOptions(policyFlags(policy.command('create').description('create a QoS policy').argument('<name>', 'name of QoS policy to create')))
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (name: string, o: PolicyOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const attrs = { ...policyAttrs({ ...o, name }) };
      if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
      await printShow(cmd, showFields(await new NetworkClient(session).create('qos-policy', attrs), POLICY));
    });

  const ls = listOptions(policy.command('list').description('list QoS policies'))
    .option('--project <project>', 'only the QoS policies of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--share', 'only the QoS policies shared between projects')
    .option('--no-share', 'only the QoS policies not shared between projects');
  ls.action(async (o: PolicyOptions, cmd: Command) => {
    const { session, identity } = await connect(cmd);
    const query: NetworkQuery = {
      project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
      shared: o.share,
    };
    const columns: [string, Field][] = [
      ['ID', { column: 'id' }],
      ['Name', { column: 'name' }],
      ['Shared', { column: 'shared' }],
      ['Default', { column: 'is_default' }],
      ['Project', { column: 'project_id', alias: 'tenant_id' }],
    ];
    const items = await new NetworkClient(session).list('qos-policy', query);
    await printList(
      cmd,
      columns.map(([h]) => h),
      rows(
        items,
        columns.map(([, f]) => f),
      ),
    );
  });

  showOptions(policy.command('show').description('show a QoS policy').argument('<qos-policy>', 'QoS policy (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, showFields(await new NetworkClient(session).find('qos-policy', ref), POLICY));
    },
  );

  policyFlags(policy.command('set').description("change a QoS policy's properties").argument('<qos-policy>', 'QoS policy to modify (name or ID)'))
    .option('--name <name>', 'new name of the QoS policy')
    .action(async (ref: string, o: PolicyOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('qos-policy', ref);
      const attrs = policyAttrs(o);
      if (Object.keys(attrs).length) await net.update('qos-policy', found.id, attrs);
    });

  policy
    .command('delete')
    .description('delete QoS policies')
    .argument('<qos-policy...>', 'QoS policies to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      await deleteCounted(refs, 'QoS policies', (ref) => `Failed to delete QoS policy name or ID '${ref}'`, async (ref) =>
        net.delete('qos-policy', (await net.find('qos-policy', ref)).id),
      );
    });
}

function registerRule(rule: Command): void {
  showOptions(ruleFlags(rule.command('create').description('create a QoS rule').argument('<qos-policy>', 'QoS policy that contains the rule (name or ID)')))
    .addOption(new Option('--type <type>', 'QoS rule type').choices(Object.keys(RULES)).makeOptionMandatory())
    .action(async (ref: string, o: RuleOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const type = o.type!;
      const created = await wrapped('Failed to create Network QoS rule', async () => {
        const policy = await net.find('qos-policy', ref);
        const body = { [`${RULES[type].path}_rule`]: ruleAttrs(type, o, true) };
        return (await net.request<Record<string, Resource>>('POST', rulePath(policy, type), { body }))[`${RULES[type].path}_rule`]!;
      });
      await printShow(cmd, showFields(created, ruleFields(type)));
    });

  listOptions(rule.command('list').description("list a QoS policy's rules").argument('<qos-policy>', 'QoS policy that contains the rules (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const policy = await new NetworkClient(session).find('qos-policy', ref);
      const columns: [string, string][] = [
        ['ID', 'id'],
        ['QoS Policy ID', 'qos_policy_id'],
        ['Type', 'type'],
        ['Max Kbps', 'max_kbps'],
        ['Max Burst Kbits', 'max_burst_kbps'],
        ['Min Kbps', 'min_kbps'],
        ['Min Kpps', 'min_kpps'],
        ['DSCP mark', 'dscp_mark'],
        ['Direction', 'direction'],
      ];
      // What a rule type does not have is blank, not None.
      const items = (policy.rules ?? []) as Resource[];
      await printList(
        cmd,
        columns.map(([h]) => h),
        rows(
          items,
          columns.map(([, column]) => ({ column, fallback: '' })),
        ),
      );
    },
  );

  const byId = (cmd: Command) => cmd.argument('<qos-policy>', 'QoS policy that contains the rule (name or ID)').argument('<rule-id>', 'QoS rule (ID)');

  showOptions(byId(rule.command('show').description('show a QoS rule'))).action(async (ref: string, id: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const net = new NetworkClient(session);
    const [type, found] = await wrapped(`Failed to set Network QoS rule ID "${id}"`, async () => {
      const policy = await net.find('qos-policy', ref);
      const type = ruleIn(policy, id);
      if (!type) throw new ClientError('Rule not found');
      return [type, (await net.request<Record<string, Resource>>('GET', rulePath(policy, type, id)))[`${RULES[type].path}_rule`]!] as const;
    });
    await printShow(cmd, showFields(found, ruleFields(type)));
  });

  ruleFlags(byId(rule.command('set').description("change a QoS rule's properties"))).action(async (ref: string, id: string, o: RuleOptions, cmd: Command) => {
    const { session } = await connect(cmd);
    const net = new NetworkClient(session);
    await wrapped(`Failed to set Network QoS rule ID "${id}"`, async () => {
      const policy = await net.find('qos-policy', ref);
      const type = ruleIn(policy, id);
      if (!type) throw new ClientError('Rule not found');
      const attrs = ruleAttrs(type, o, false);
      await net.request('PUT', rulePath(policy, type, id), { body: { [`${RULES[type].path}_rule`]: attrs } });
    });
  });

  byId(rule.command('delete').description('delete a QoS rule')).action(async (ref: string, id: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const net = new NetworkClient(session);
    await wrapped(`Failed to delete Network QoS rule ID "${id}"`, async () => {
      const policy = await net.find('qos-policy', ref);
      const type = ruleIn(policy, id);
      if (!type) throw new ClientError(`Rule ${id} not found`);
      await net.request('DELETE', rulePath(policy, type, id));
    });
  });

  const type = rule.command('type').description('QoS rule types (network qos rule type list|show)');
  listOptions(type.command('list').description('list the QoS rule types')).action(async (_o, cmd: Command) => {
    const { session } = await connect(cmd);
    const items = await new NetworkClient(session).list('qos-rule-type');
    await printList(cmd, ['Type'], rows(items, [{ column: 'type' }]));
  });
  showOptions(type.command('show').description('show a QoS rule type').argument('<qos-rule-type-name>', 'name of the QoS rule type')).action(
    async (name: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await new NetworkClient(session).get('qos-rule-type', name);
      await printShow(cmd, showFields(found, [{ column: 'drivers' }, { column: 'rule_type_name', key: 'type' }]));
    },
  );
}

export function register(qos: Command): void {
  registerPolicy(qos.command('policy').description('QoS policies'));
  registerRule(qos.command('rule').description('QoS rules of a policy'));
}
