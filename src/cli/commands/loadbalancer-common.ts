import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { LoadBalancerClient, OctaviaError, uuidLike, type LbKind, type LbResource } from '../../client/loadbalancer.ts';
import { NetworkClient, type ResourceKind } from '../../client/network.ts';
import { connect } from '../context.ts';
import { printShow } from '../output.ts';
import { findProject } from './project.ts';

// What python3-octaviaclient prints: show commands a fixed list of rows in its order (not sorted),
// lists a few columns, lists of children as their ids one per line.

/** format_list: the ids of related resources, one per line. */
const ids = (v: unknown) => (Array.isArray(v) ? v.map((x) => (x as { id: string }).id).join('\n') : v);
/** format_list_flat: tags, CIDRs. */
const flat = (v: unknown) => (Array.isArray(v) ? v.join('\n') : v);
/** format_hash: key=value per line, None when empty. */
const hash = (v: unknown) =>
  v && typeof v === 'object' && Object.keys(v).length
    ? Object.entries(v)
        .map(([k, x]) => `${k}=${String(x)}`)
        .join('\n')
    : null;

/** The counters of `stats show`, in octaviaclient's order. */
export const STATS = ['active_connections', 'bytes_in', 'bytes_out', 'request_errors', 'total_connections'];

type Formatters = Record<string, (v: unknown) => unknown>;

export interface View {
  rows: string[];
  columns: string[];
  formatters: Formatters;
}

export const VIEWS: Record<LbKind, View> = {
  loadbalancer: {
    rows: [
      'admin_state_up',
      'availability_zone',
      'created_at',
      'description',
      'flavor_id',
      'id',
      'listeners',
      'name',
      'operating_status',
      'pools',
      'project_id',
      'provider',
      'provisioning_status',
      'updated_at',
      'vip_address',
      'vip_network_id',
      'vip_port_id',
      'vip_qos_policy_id',
      'vip_subnet_id',
      'tags',
      'additional_vips',
    ],
    columns: ['id', 'name', 'project_id', 'vip_address', 'provisioning_status', 'operating_status', 'provider'],
    formatters: { listeners: ids, pools: ids, l7policies: ids, tags: flat },
  },
  listener: {
    rows: [
      'admin_state_up',
      'connection_limit',
      'created_at',
      'default_pool_id',
      'default_tls_container_ref',
      'description',
      'id',
      'insert_headers',
      'l7policies',
      'loadbalancers',
      'name',
      'operating_status',
      'project_id',
      'protocol',
      'protocol_port',
      'provisioning_status',
      'sni_container_refs',
      'timeout_client_data',
      'timeout_member_connect',
      'timeout_member_data',
      'timeout_tcp_inspect',
      'updated_at',
      'client_ca_tls_container_ref',
      'client_authentication',
      'client_crl_container_ref',
      'allowed_cidrs',
      'tls_ciphers',
      'tls_versions',
      'alpn_protocols',
      'tags',
    ],
    columns: ['id', 'default_pool_id', 'name', 'project_id', 'protocol', 'protocol_port', 'admin_state_up'],
    formatters: { loadbalancers: ids, pools: ids, l7policies: ids, insert_headers: hash, allowed_cidrs: flat, tags: flat },
  },
  pool: {
    rows: [
      'admin_state_up',
      'created_at',
      'description',
      'healthmonitor_id',
      'id',
      'lb_algorithm',
      'listeners',
      'loadbalancers',
      'members',
      'name',
      'operating_status',
      'project_id',
      'protocol',
      'provisioning_status',
      'session_persistence',
      'updated_at',
      'tls_container_ref',
      'ca_tls_container_ref',
      'crl_container_ref',
      'tls_enabled',
      'tls_ciphers',
      'tls_versions',
      'tags',
      'alpn_protocols',
    ],
    columns: ['id', 'name', 'project_id', 'provisioning_status', 'protocol', 'lb_algorithm', 'admin_state_up'],
    formatters: { loadbalancers: ids, members: ids, listeners: ids, session_persistence: hash, tags: flat },
  },
  member: {
    rows: [
      'address',
      'admin_state_up',
      'created_at',
      'id',
      'name',
      'operating_status',
      'project_id',
      'protocol_port',
      'provisioning_status',
      'subnet_id',
      'updated_at',
      'weight',
      'monitor_port',
      'monitor_address',
      'backup',
      'tags',
    ],
    columns: ['id', 'name', 'project_id', 'provisioning_status', 'address', 'protocol_port', 'operating_status', 'weight'],
    formatters: { tags: flat },
  },
  healthmonitor: {
    rows: [
      'project_id',
      'name',
      'admin_state_up',
      'pools',
      'created_at',
      'provisioning_status',
      'updated_at',
      'delay',
      'expected_codes',
      'max_retries',
      'http_method',
      'timeout',
      'max_retries_down',
      'url_path',
      'type',
      'id',
      'operating_status',
      'http_version',
      'domain_name',
      'tags',
    ],
    columns: ['id', 'name', 'project_id', 'type', 'admin_state_up'],
    formatters: { pools: ids, tags: flat },
  },
  l7policy: {
    rows: [
      'listener_id',
      'description',
      'admin_state_up',
      'rules',
      'project_id',
      'created_at',
      'provisioning_status',
      'updated_at',
      'redirect_pool_id',
      'redirect_url',
      'redirect_prefix',
      'action',
      'position',
      'id',
      'operating_status',
      'name',
      'redirect_http_code',
      'tags',
    ],
    columns: ['id', 'name', 'project_id', 'provisioning_status', 'action', 'position', 'admin_state_up'],
    formatters: { rules: ids, tags: flat },
  },
  l7rule: {
    rows: [
      'created_at',
      'compare_type',
      'provisioning_status',
      'invert',
      'admin_state_up',
      'updated_at',
      'value',
      'key',
      'project_id',
      'type',
      'id',
      'operating_status',
      'tags',
    ],
    columns: ['id', 'project_id', 'provisioning_status', 'compare_type', 'type', 'key', 'value', 'invert', 'admin_state_up'],
    formatters: { tags: flat },
  },
};

/** osc_lib's get_dict_properties: a missing field is '', a formatter skips None. */
export function properties(item: Record<string, unknown>, fields: string[], formatters: Formatters = {}): unknown[] {
  return fields.map((f) => {
    const v = f in item ? item[f] : '';
    return formatters[f] && v !== null && v !== undefined ? formatters[f]!(v) : v;
  });
}

export async function showResource(cmd: Command, kind: LbKind, item: Record<string, unknown>): Promise<void> {
  const { rows, formatters } = VIEWS[kind];
  const values = properties(item, rows, formatters);
  await printShow(cmd, Object.fromEntries(rows.map((r, i) => [r, values[i]])));
}

export async function lbClient(cmd: Command): Promise<{ lb: LoadBalancerClient; net: () => NetworkClient; cloud: Awaited<ReturnType<typeof connect>> }> {
  const cloud = await connect(cmd);
  return { lb: new LoadBalancerClient(cloud.session), net: () => new NetworkClient(cloud.session), cloud };
}

/** The resource a show command names: a UUID shown directly, else found in the listings. */
export async function showTarget(lb: LoadBalancerClient, kind: LbKind, ref: string, parent?: string): Promise<LbResource> {
  if (uuidLike(ref) && (!parent || uuidLike(parent))) {
    try {
      return await lb.get(kind, ref, parent);
    } catch (err) {
      if (!(err instanceof OctaviaError && err.status === 404)) throw err;
    }
  }
  return lb.get(kind, (await lb.find(kind, ref, parent)).id, parent);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Between polls of --wait; octaviaclient sleeps 3 s, which is most of a fake cloud's wait. */
const POLL_MS = 1000;

/** --wait: until the resource is ACTIVE; ERROR fails as octaviaclient fails. */
export async function waitForActive(get: () => Promise<LbResource>): Promise<void> {
  for (;;) {
    const status = String((await get()).provisioning_status ?? '').toLowerCase();
    if (status === 'active') return;
    if (status === 'error') throw new ClientError('The resource did not successfully reach ACTIVE status. (HTTP n/a) (Request-ID: None)');
    await sleep(POLL_MS);
  }
}

/** --wait on a delete: until the resource answers 404; ERROR or five minutes fail. */
export async function waitForDelete(get: () => Promise<LbResource>): Promise<void> {
  const until = Date.now() + 300_000;
  while (Date.now() < until) {
    let status: string;
    try {
      status = String((await get()).provisioning_status ?? '').toLowerCase();
    } catch (err) {
      if (err instanceof OctaviaError && err.status === 404) return;
      throw err;
    }
    if (status === 'error') break;
    await sleep(POLL_MS);
  }
  throw new ClientError('The resource could not be successfully deleted. (HTTP n/a) (Request-ID: None)');
}

/** A Neutron subnet, network, port or QoS policy named for Octavia: by id, then name, as octaviaclient finds it. */
export async function neutronId(net: NetworkClient, kind: ResourceKind, plural: string, ref: string): Promise<string> {
  if (kind === 'qos-policy' && ['none', 'null', 'void'].includes(ref.toLowerCase())) return null as unknown as string;
  const order = uuidLike(ref) ? ['id', 'name'] : ['name', 'id'];
  for (const field of order) {
    const found = await net.list(kind, { [field]: ref });
    if (found.length === 1) return found[0]!.id;
    if (found.length > 1 && field === 'name') throw new ClientError(`${found.length} ${plural} found with name or ID of ${ref}. Please try again with UUID`);
  }
  throw new ClientError(`Unable to locate ${ref} in ${plural}`);
}

export async function projectId(cloud: Awaited<ReturnType<typeof connect>>, ref: string): Promise<string> {
  return (await findProject(cloud.identity, ref)).id;
}

/** --enable/--disable, as a mutually exclusive pair. */
export function adminOptions(cmd: Command, createDefault: boolean): Command {
  return cmd
    .addOption(new Option('--enable', `enable it${createDefault ? ' (default)' : ''}`))
    .addOption(new Option('--disable', 'disable it').conflicts('enable'));
}

export const append = (v: string, all: string[] = []) => [...all, v];

/** --tag/--no-tag of create and set. */
export const tagOptions = (cmd: Command) =>
  cmd.option('--tag <tag>', 'tag to add (repeat for several)', append).option('--no-tag', 'no tags (on set: clear them first)');

/** The list filters by tag of octaviaclient's list commands. */
export const tagFilters = (cmd: Command) =>
  cmd
    .option('--tags <tag>[,<tag>,...]', 'only those with all these tags')
    .option('--any-tags <tag>[,<tag>,...]', 'only those with any of these tags')
    .option('--not-tags <tag>[,<tag>,...]', 'leave out those with all these tags')
    .option('--not-any-tags <tag>[,<tag>,...]', 'leave out those with any of these tags');

export interface TagFilters {
  tags?: string;
  anyTags?: string;
  notTags?: string;
  notAnyTags?: string;
}

export function tagQuery(o: TagFilters): Record<string, string | undefined> {
  return { tags: o.tags, 'tags-any': o.anyTags, 'not-tags': o.notTags, 'not-tags-any': o.notAnyTags };
}

/** The body's admin_state_up and tags from --enable/--disable/--tag/--no-tag; on set, the
 * resource's tags are kept and added to unless --no-tag. */
export async function commonAttrs(
  o: { enable?: boolean; disable?: boolean; tag?: string[] | false },
  current?: () => Promise<LbResource>,
): Promise<Record<string, unknown>> {
  const attrs: Record<string, unknown> = {};
  if (o.enable) attrs.admin_state_up = true;
  if (o.disable) attrs.admin_state_up = false;
  // commander gives --no-tag as tag === false.
  if (Array.isArray(o.tag)) attrs.tags = current ? [...new Set([...((await current()).tags as string[]), ...o.tag])] : o.tag;
  else if (o.tag === false) attrs.tags = [];
  return attrs;
}

/** An integer option, as argparse's type=int refuses anything else. */
export function int(name: string) {
  return (v: string) => {
    if (!/^[-+]?\d+$/.test(v.trim())) throw new ClientError(`argument --${name}: invalid int value: '${v}'`);
    return Number(v);
  };
}

/** key=value,key=value, as octaviaclient's _format_kv reads it. */
export function keyValues(v: string): Record<string, string> {
  return Object.fromEntries(
    v.split(',').map((pair) => {
      const [k, x, ...rest] = pair.split('=');
      if (x === undefined || rest.length) throw new ClientError(`${pair}: expected key=value`);
      return [k!, x];
    }),
  );
}

/** Octavia's port range check, in octaviaclient's words. */
export function checkPort(port: number | undefined, name = 'protocol-port'): void {
  if (port !== undefined && (port < 1 || port > 65535))
    throw new ClientError(`Invalid input for field/attribute '${name}', Value: '${port}'. Value must be between 1 and 65535.`);
}

/** A choice taken in any case, as octaviaclient's type=str.upper with choices. */
export function upper(name: string, choices: string[]) {
  return (v: string) => {
    const u = v.toUpperCase();
    if (!choices.includes(u)) throw new ClientError(`argument --${name}: invalid choice: '${u}' (choose from ${choices.map((c) => `'${c}'`).join(', ')})`);
    return u;
  };
}

/** `… delete NAME [--wait]` for a listener, pool, health monitor or L7 policy: found by name or
 * ID, deleted, and with --wait followed until it answers 404. */
export function registerDelete(group: Command, kind: LbKind, what: string, argument: string): void {
  group
    .command('delete')
    .description(`delete a ${what}`)
    .argument(`<${argument}>`, 'name or ID')
    .option('--wait', `wait for the ${what} to be gone`)
    .action(async (ref: string, o: { wait?: boolean }, cmd: Command) => {
      const { lb } = await lbClient(cmd);
      const id = (await lb.find(kind, ref)).id;
      await lb.delete(kind, id);
      if (o.wait) await waitForDelete(() => lb.get(kind, id));
    });
}
