import { InvalidArgumentError, Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { NetworkClient, type NetworkQuery, type Resource } from '../../client/network.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { findProject } from './project.ts';
import { logError } from './compute-columns.ts';
import { asShowOne, deleteAll, groupRules, showFields, valueOf, type Field } from './network-columns.ts';

/** openstacksdk's SecurityGroup, as `security group show` names its attributes: its project_id
 * column reads the deprecated tenant_id. */
const GROUP_FIELDS: Field[] = [
  { column: 'created_at' },
  { column: 'description' },
  { column: 'id' },
  { column: 'name' },
  { column: 'project_id', key: 'tenant_id' },
  { column: 'revision_number' },
  { column: 'rules', key: 'security_group_rules', format: groupRules },
  { column: 'stateful' },
  { column: 'tags', fallback: [] },
  { column: 'updated_at' },
];

/** openstacksdk's SecurityGroupRule, as `security group rule show` names its attributes. */
const RULE_FIELDS: Field[] = [
  { column: 'created_at' },
  { column: 'description' },
  { column: 'direction' },
  { column: 'ether_type', key: 'ethertype' },
  { column: 'id' },
  { column: 'name' },
  { column: 'port_range_max' },
  { column: 'port_range_min' },
  { column: 'project_id' },
  { column: 'protocol' },
  { column: 'remote_address_group_id' },
  { column: 'remote_group_id' },
  { column: 'remote_ip_prefix' },
  { column: 'revision_number' },
  { column: 'security_group_id' },
  { column: 'tags', fallback: [] },
  { column: 'updated_at' },
];

const ICMP = ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'];
const isIpv6Protocol = (p: string | null) => p !== null && (p.startsWith('ipv6-') || ['icmpv6', '41', '43', '44', '58', '59', '60'].includes(p));

/** The whole-address-space prefix of a rule without one. */
const anyAddress = (ethertype: unknown) => (ethertype === 'IPv4' ? '0.0.0.0/0' : ethertype === 'IPv6' ? '::/0' : null);

/** `137:139`, or `TYPE[:CODE]` for ICMP, as openstackclient lists a rule's ports. */
function portRange(rule: Resource): string {
  const min = rule.port_range_min as number | null;
  const max = rule.port_range_max as number | null;
  if (ICMP.includes(rule.protocol as string)) return `${min ? `type=${min}` : ''}${max ? `:code=${max}` : ''}`;
  if (!min && !max) return '';
  return `${min ?? max}:${max ?? min}`;
}

/** osc-lib's RangeAction: `N` or `N:M`. */
function range(value: string): [number, number] {
  const parts = value.split(':');
  const int = (s: string) => {
    if (!/^\s*[-+]?\d+\s*$/.test(s)) throw new InvalidArgumentError(`invalid literal for int() with base 10: '${s}'`);
    return Number(s);
  };
  if (parts.length === 1) return [int(parts[0]!), int(parts[0]!)];
  if (parts.length > 2) throw new InvalidArgumentError('Invalid range, too many values');
  const [min, max] = [int(parts[0]!), int(parts[1]!)];
  if (min > max) throw new InvalidArgumentError(`Invalid range, ${parts[0]} is not less than ${parts[1]}`);
  return [min, max];
}

const integer = (value: string) => {
  if (!/^\s*[-+]?\d+\s*$/.test(value)) throw new InvalidArgumentError(`invalid int value: '${value}'`);
  return Number(value);
};

interface RuleOptions {
  remoteIp?: string;
  remoteGroup?: string;
  dstPort?: [number, number];
  protocol?: string;
  proto?: string;
  description?: string;
  icmpType?: number;
  icmpCode?: number;
  ingress?: boolean;
  egress?: boolean;
  ethertype?: string;
  project?: string;
  projectDomain?: string;
}

/** The rule's request body, checked and defaulted as openstackclient does. */
async function ruleAttrs(net: NetworkClient, groupId: string, o: RuleOptions): Promise<Record<string, unknown>> {
  const given = o.proto ?? o.protocol ?? 'any';
  const protocol = given === 'any' ? null : given;
  const ethertype = o.ethertype ?? (isIpv6Protocol(protocol) ? 'IPv6' : 'IPv4');
  const attrs: Record<string, unknown> = { protocol };
  if (o.description !== undefined) attrs.description = o.description;
  attrs.direction = o.egress ? 'egress' : 'ingress';
  attrs.ethertype = ethertype;
  if (o.dstPort && (o.icmpType || o.icmpCode)) throw new ClientError('Argument --dst-port not allowed with arguments --icmp-type and --icmp-code');
  if (o.icmpType === undefined && o.icmpCode !== undefined) throw new ClientError('Argument --icmp-type required with argument --icmp-code');
  const icmp = ICMP.includes(protocol as string);
  if (!icmp && (o.icmpType || o.icmpCode)) throw new ClientError('ICMP IP protocol required with arguments --icmp-type and --icmp-code');
  // As openstackclient: the port range of an ICMP rule is ignored.
  if (o.dstPort && !icmp) [attrs.port_range_min, attrs.port_range_max] = o.dstPort;
  if (o.icmpType !== undefined && o.icmpType >= 0) attrs.port_range_min = o.icmpType;
  if (o.icmpCode !== undefined && o.icmpCode >= 0) attrs.port_range_max = o.icmpCode;
  if (o.remoteGroup !== undefined) attrs.remote_group_id = (await net.find('security-group', o.remoteGroup)).id;
  else attrs.remote_ip_prefix = o.remoteIp ?? anyAddress(ethertype);
  attrs.security_group_id = groupId;
  return attrs;
}

const ipvCase = (value: string) => (value.toLowerCase() === 'ipv4' ? 'IPv4' : value.toLowerCase() === 'ipv6' ? 'IPv6' : value);

function registerRules(group: Command): void {
  const rule = group.command('rule').description('security group rules (security group rule create|list|show|delete)');

  showOptions(rule.command('create').description('create a security group rule').argument('<group>', 'security group of the rule (name or ID)'))
    .option('--remote-ip <ip-address>', 'remote IP address block (CIDR; default 0.0.0.0/0 for IPv4, ::/0 for IPv6)')
    .addOption(new Option('--remote-group <group>', 'remote security group (name or ID)').conflicts('remoteIp'))
    .option('--dst-port <port-range>', 'destination port or range, e.g. 22 or 137:139', range)
    .option('--protocol <protocol>', 'IP protocol: tcp, udp, icmp, … a number [0-255], or any (default)', (v: string) => v.toLowerCase())
    .addOption(new Option('--proto <proto>', 'the same as --protocol').argParser((v: string) => v.toLowerCase()).conflicts('protocol'))
    .option('--description <description>', 'rule description')
    .option('--icmp-type <icmp-type>', 'ICMP type for ICMP protocols', integer)
    .option('--icmp-code <icmp-code>', 'ICMP code for ICMP protocols', integer)
    .option('--ingress', 'the rule applies to incoming traffic (default)')
    .addOption(new Option('--egress', 'the rule applies to outgoing traffic').conflicts('ingress'))
    .addOption(new Option('--ethertype <ethertype>', 'IPv4 or IPv6 (default: by the protocol)').argParser(ipvCase))
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (groupRef: string, o: RuleOptions, cmd: Command) => {
      if (o.ethertype !== undefined && !['IPv4', 'IPv6'].includes(o.ethertype))
        throw new ClientError(`argument --ethertype: invalid choice: '${o.ethertype}' (choose from 'IPv4', 'IPv6')`);
      const { session, identity } = await connect(cmd);
      const net = new NetworkClient(session);
      const created = await asShowOne(async () => {
        const group = await net.find('security-group', groupRef);
        const attrs = await ruleAttrs(net, group.id, o);
        if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
        return net.create('security-group-rule', attrs);
      });
      await printShow(cmd, showFields(created, RULE_FIELDS));
    });

  listOptions(rule.command('list').description('list security group rules').argument('[group]', 'only the rules of this security group (name or ID)'))
    .addOption(new Option('--all-projects').hideHelp())
    .option('--protocol <protocol>', 'only rules of this IP protocol', (v: string) => v.toLowerCase())
    .option('--ethertype <ethertype>', 'rules of this ethertype (accepted, and ignored as openstackclient ignores it)')
    .option('--ingress', 'only rules for incoming traffic')
    .addOption(new Option('--egress', 'only rules for outgoing traffic').conflicts('ingress'))
    .option('--long', 'deprecated: no longer needed')
    .action(async (groupRef: string | undefined, o: { protocol?: string; ingress?: boolean; egress?: boolean; long?: boolean }, cmd: Command) => {
      if (o.long) logError('The --long option has been deprecated and is no longer needed');
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const query: NetworkQuery = {
        security_group_id: groupRef !== undefined ? (await net.find('security-group', groupRef)).id : undefined,
        direction: o.ingress ? 'ingress' : o.egress ? 'egress' : undefined,
        protocol: o.protocol,
      };
      const rules = await net.list('security-group-rule', query);
      const columns = ['ID', 'IP Protocol', 'Ethertype', 'IP Range', 'Port Range', 'Direction', 'Remote Security Group', 'Remote Address Group'];
      if (groupRef === undefined) columns.push('Security Group');
      await printList(
        cmd,
        columns,
        rules.map((r) => {
          const row = [
            r.id,
            r.protocol ?? null,
            r.ethertype ?? null,
            r.remote_ip_prefix ?? anyAddress(r.ethertype),
            portRange(r),
            r.direction ?? null,
            r.remote_group_id ?? null,
            r.remote_address_group_id ?? null,
          ];
          return groupRef === undefined ? [...row, r.security_group_id ?? null] : row;
        }),
      );
    });

  showOptions(rule.command('show').description('show a security group rule').argument('<rule>', 'security group rule (ID only)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await asShowOne(() => new NetworkClient(session).find('security-group-rule', ref));
      // Old rules have no prefix: openstackclient shows the whole address space.
      if (!found.remote_ip_prefix) found.remote_ip_prefix = anyAddress(valueOf(found, { column: 'ethertype' }));
      await printShow(cmd, showFields(found, RULE_FIELDS));
    },
  );

  rule
    .command('delete')
    .description('delete security group rules')
    .argument('<rule...>', 'security group rules to delete (ID only)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'security-group-rule', 'security_group_rule', refs);
    });
}

export function register(security: Command): void {
  const group = security.command('group').description('security groups and their rules (security group create|list|show|set|delete, security group rule …)');

  showOptions(group.command('create').description('create a security group').argument('<name>', 'new security group name'))
    .option('--description <description>', 'security group description (default: its name)')
    .option('--project <project>', "owner's project (name or ID)")
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .option('--stateful', 'a stateful security group (default)')
    .addOption(new Option('--stateless', 'a stateless security group').conflicts('stateful'))
    .action(
      async (name: string, o: { description?: string; project?: string; projectDomain?: string; stateful?: boolean; stateless?: boolean }, cmd: Command) => {
        const { session, identity } = await connect(cmd);
        const net = new NetworkClient(session);
        const attrs: Record<string, unknown> = { name, description: o.description ?? name };
        if (o.stateful) attrs.stateful = true;
        if (o.stateless) attrs.stateful = false;
        if (o.project) attrs.project_id = (await findProject(identity, o.project, o.projectDomain)).id;
        const created = await asShowOne(() => net.create('security-group', attrs));
        await printShow(cmd, showFields(created, GROUP_FIELDS));
      },
    );

  listOptions(group.command('list').description('list security groups'))
    .addOption(new Option('--all-projects').hideHelp())
    .option('--project <project>', 'only security groups of this project (name or ID)')
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)')
    .action(async (o: { project?: string; projectDomain?: string }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const query: NetworkQuery = {
        // openstackclient asks only for the attributes it shows.
        fields: ['id', 'name', 'description', 'project_id', 'tags'],
        project_id: o.project ? (await findProject(identity, o.project, o.projectDomain)).id : undefined,
      };
      const groups = await new NetworkClient(session).list('security-group', query);
      await printList(
        cmd,
        ['ID', 'Name', 'Description', 'Project', 'Tags'],
        groups.map((g) => [g.id, g.name ?? null, g.description ?? null, g.project_id ?? null, g.tags ?? []]),
      );
    });

  showOptions(group.command('show').description('show a security group, with its rules').argument('<group>', 'security group (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await asShowOne(() => new NetworkClient(session).find('security-group', ref));
      await printShow(cmd, showFields(found, GROUP_FIELDS));
    },
  );

  group
    .command('set')
    .description("change a security group's name or description")
    .argument('<group>', 'security group to modify (name or ID)')
    .option('--name <new-name>', 'new security group name')
    .option('--description <description>', 'new description')
    .option('--stateful', 'make the security group stateful')
    .addOption(new Option('--stateless', 'make the security group stateless').conflicts('stateful'))
    .action(async (ref: string, o: { name?: string; description?: string; stateful?: boolean; stateless?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const net = new NetworkClient(session);
      const found = await net.find('security-group', ref);
      const attrs: Record<string, unknown> = {};
      if (o.name !== undefined) attrs.name = o.name;
      if (o.description !== undefined) attrs.description = o.description;
      if (o.stateful) attrs.stateful = true;
      if (o.stateless) attrs.stateful = false;
      // As openstackclient: the update is sent even when it changes nothing.
      await net.update('security-group', found.id, attrs);
    });

  group
    .command('delete')
    .description('delete security groups')
    .argument('<group...>', 'security groups to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await deleteAll(new NetworkClient(session), 'security-group', 'security_group', refs);
    });

  registerRules(group);
}
