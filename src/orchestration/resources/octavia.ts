import { ServiceError, type Services } from '../services.ts';
import { defined, lookup, physicalName, stackMarker, waitFor, type ResourceContext, type ResourceType } from './types.ts';

// Octavia's objects, each a change to its load balancer: Octavia refuses one (409) while the load
// balancer is PENDING_*, so every create, update and delete waits for it to be ACTIVE before (a
// sibling's change may still be applied: a pool's member and monitor are made in parallel) and
// after. Each object carries a tag naming the stack and the resource (orphan).

const LB = 'load-balancer';
const base = '/v2/lbaas';

const find = (api: Services, collection: string, ref: unknown, kind: string) => lookup(api, LB, `${base}/${collection}`, collection, ref, kind);

async function lbStatus(ctx: ResourceContext, lbId: string): Promise<string | undefined> {
  const found = await ctx.api.callOr404(LB, 'GET', `${base}/loadbalancers/${lbId}`);
  return found?.loadbalancer.provisioning_status;
}

/** Waits until the load balancer is ACTIVE (or gone, for a delete); ERROR fails. */
const settled = (ctx: ResourceContext, lbId: string, goneOk = false) =>
  waitFor(ctx, `Load balancer ${lbId}`, async () => {
    const status = await lbStatus(ctx, lbId);
    if (status === undefined) {
      if (goneOk) return true;
      throw new ServiceError('NotFound', `Load Balancer ${lbId} not found.`, 404);
    }
    if (status === 'ERROR') throw new ServiceError('ResourceInError', `Load balancer ${lbId} went to provisioning status ERROR`, 500);
    return status === 'ACTIVE' ? true : undefined;
  });

/** Makes one change to what the load balancer holds once it is ACTIVE, again while another
 * change of the stack's got in first (409). */
const applied = <T>(ctx: ResourceContext, lbId: string, what: string, call: () => Promise<T>, goneOk = false): Promise<T> =>
  waitFor(ctx, what, async () => {
    await settled(ctx, lbId, goneOk);
    try {
      return { value: await call() };
    } catch (err) {
      if (err instanceof ServiceError && err.status === 409) return undefined;
      throw err;
    }
  }).then((r) => r.value);

/** A change applied, then the load balancer ACTIVE again. */
async function change<T>(ctx: ResourceContext, lbId: string, what: string, call: () => Promise<T>, goneOk = false): Promise<T> {
  const value = await applied(ctx, lbId, what, call, goneOk);
  await settled(ctx, lbId, goneOk);
  return value;
}

const tagged = (ctx: ResourceContext) => ({ tags: [stackMarker(ctx)] });

/** The id of the object of the collection that carries the resource's tag. */
async function taggedIn(ctx: ResourceContext, path: string, key: string): Promise<string | undefined> {
  const marker = stackMarker(ctx);
  const found = await ctx.api.call(LB, 'GET', path);
  return (found[key] as { id: string; tags?: string[] }[]).find((o) => o.tags?.includes(marker))?.id;
}

const lbOf = (view: { loadbalancers?: { id: string }[] }) => view.loadbalancers?.[0]?.id;

async function shown(ctx: ResourceContext, path: string, key: string): Promise<Record<string, any> | undefined> {
  return (await ctx.api.callOr404(LB, 'GET', path))?.[key];
}

/** A child of a load balancer with its own top-level collection (listener, pool, health monitor). */
function child(
  collection: string,
  key: string,
  spec: Pick<ResourceType, 'properties' | 'required' | 'attributes' | 'updatable'>,
  body: (ctx: ResourceContext, p: Record<string, any>) => Promise<{ lbId: string; fields: Record<string, unknown> }>,
  updateBody: (ctx: ResourceContext, changed: Record<string, any>) => Promise<Record<string, unknown>> = async (_ctx, c) => defined(c),
): ResourceType {
  const path = (id: string) => `${base}/${collection}/${id}`;
  return {
    ...spec,
    async create(ctx, p) {
      const { lbId, fields } = await body(ctx, p);
      const made = await applied(ctx, lbId, `Creating ${key} ${ctx.name}`, () =>
        ctx.api.call(LB, 'POST', `${base}/${collection}`, { [key]: { ...fields, ...tagged(ctx) } }),
      );
      await ctx.made(made[key].id);
      await settled(ctx, lbId);
      return { id: made[key].id, data: (await shown(ctx, path(made[key].id), key)) ?? made[key] };
    },
    async update(ctx, id, changed) {
      const view = await ctx.api.call(LB, 'GET', path(id));
      const fields = await updateBody(ctx, changed);
      await change(ctx, lbOf(view[key])!, `Updating ${key} ${id}`, () => ctx.api.call(LB, 'PUT', path(id), { [key]: fields }));
      return (await ctx.api.call(LB, 'GET', path(id)))[key];
    },
    async delete(ctx, id) {
      const view = await shown(ctx, path(id), key);
      if (!view) return;
      const lbId = lbOf(view)!;
      await change(ctx, lbId, `Deleting ${key} ${id}`, () => ctx.api.callOr404(LB, 'DELETE', path(id)), true);
    },
    orphan: (ctx) => taggedIn(ctx, `${base}/${collection}`, collection),
  };
}

/** Octavia's name fields: the template's name or Heat's physical name. */
const named = (ctx: ResourceContext, p: Record<string, any>) => p.name ?? physicalName(ctx);

export const OCTAVIA: Record<string, ResourceType> = {
  'OS::Octavia::LoadBalancer': {
    properties: ['name', 'description', 'vip_subnet', 'vip_network', 'vip_address', 'provider', 'admin_state_up', 'tenant_id'],
    updatable: ['name', 'description', 'admin_state_up'],
    attributes: ['vip_address', 'vip_port_id', 'vip_subnet_id', 'vip_network_id', 'pools', 'listeners', 'provisioning_status', 'operating_status'],
    async create(ctx, p) {
      if (p.vip_subnet === undefined && p.vip_network === undefined)
        throw new ServiceError('BadRequest', 'At least one of the following properties must be specified: vip_subnet, vip_network.', 400);
      const made = await ctx.api.call(LB, 'POST', `${base}/loadbalancers`, {
        loadbalancer: defined({
          name: named(ctx, p),
          description: p.description,
          vip_subnet_id: p.vip_subnet === undefined ? undefined : await lookup(ctx.api, 'network', '/v2.0/subnets', 'subnets', p.vip_subnet, 'subnet'),
          vip_network_id: p.vip_network === undefined ? undefined : await lookup(ctx.api, 'network', '/v2.0/networks', 'networks', p.vip_network, 'network'),
          vip_address: p.vip_address,
          provider: p.provider,
          admin_state_up: p.admin_state_up,
          project_id: p.tenant_id,
          ...tagged(ctx),
        }),
      });
      const id = made.loadbalancer.id as string;
      await ctx.made(id);
      await settled(ctx, id);
      return { id, data: (await ctx.api.call(LB, 'GET', `${base}/loadbalancers/${id}`)).loadbalancer };
    },
    async update(ctx, id, changed) {
      await change(ctx, id, `Updating load balancer ${id}`, () => ctx.api.call(LB, 'PUT', `${base}/loadbalancers/${id}`, { loadbalancer: defined(changed) }));
      return (await ctx.api.call(LB, 'GET', `${base}/loadbalancers/${id}`)).loadbalancer;
    },
    async delete(ctx, id) {
      if ((await lbStatus(ctx, id)) === undefined) return;
      await change(ctx, id, `Deleting load balancer ${id}`, () => ctx.api.callOr404(LB, 'DELETE', `${base}/loadbalancers/${id}`), true);
      await waitFor(ctx, `Deleting load balancer ${id}`, async () => ((await lbStatus(ctx, id)) === undefined ? true : undefined));
    },
    orphan: (ctx) => taggedIn(ctx, `${base}/loadbalancers`, 'loadbalancers'),
  },
  'OS::Octavia::Listener': child(
    'listeners',
    'listener',
    {
      properties: [
        'loadbalancer',
        'default_pool',
        'protocol',
        'protocol_port',
        'name',
        'description',
        'admin_state_up',
        'connection_limit',
        'allowed_cidrs',
        'tenant_id',
      ],
      required: ['protocol', 'protocol_port'],
      updatable: ['name', 'description', 'admin_state_up', 'connection_limit', 'default_pool', 'allowed_cidrs'],
      attributes: ['loadbalancers', 'default_pool_id', 'protocol', 'protocol_port', 'name'],
    },
    async (ctx, p) => {
      if (p.loadbalancer === undefined && p.default_pool === undefined)
        throw new ServiceError('BadRequest', 'At least one of the following properties must be specified: loadbalancer, default_pool.', 400);
      const pool = p.default_pool === undefined ? undefined : await find(ctx.api, 'pools', p.default_pool, 'pool');
      const lbId =
        p.loadbalancer === undefined
          ? lbOf((await ctx.api.call(LB, 'GET', `${base}/pools/${pool}`)).pool)!
          : await find(ctx.api, 'loadbalancers', p.loadbalancer, 'load balancer');
      return {
        lbId,
        fields: defined({
          loadbalancer_id: lbId,
          default_pool_id: pool,
          protocol: p.protocol,
          protocol_port: p.protocol_port,
          name: named(ctx, p),
          description: p.description,
          admin_state_up: p.admin_state_up,
          connection_limit: p.connection_limit,
          allowed_cidrs: p.allowed_cidrs,
          project_id: p.tenant_id,
        }),
      };
    },
    async (ctx, changed) => {
      // A property left unset keeps Octavia's value, but a default pool unset is taken away.
      const { default_pool, ...rest } = changed;
      if (!('default_pool' in changed)) return defined(rest);
      return {
        ...defined(rest),
        default_pool_id: default_pool === null || default_pool === undefined ? null : await find(ctx.api, 'pools', default_pool, 'pool'),
      };
    },
  ),
  'OS::Octavia::Pool': child(
    'pools',
    'pool',
    {
      properties: ['listener', 'loadbalancer', 'lb_algorithm', 'protocol', 'session_persistence', 'name', 'description', 'admin_state_up', 'tenant_id'],
      required: ['lb_algorithm', 'protocol'],
      updatable: ['lb_algorithm', 'session_persistence', 'name', 'description', 'admin_state_up'],
      attributes: ['admin_state_up', 'name', 'description', 'lb_algorithm', 'protocol', 'listeners', 'members', 'healthmonitor_id', 'loadbalancers'],
    },
    async (ctx, p) => {
      if (p.listener === undefined && p.loadbalancer === undefined)
        throw new ServiceError('BadRequest', 'At least one of the following properties must be specified: listener, loadbalancer.', 400);
      const listener = p.listener === undefined ? undefined : await find(ctx.api, 'listeners', p.listener, 'listener');
      const lbId =
        p.loadbalancer === undefined
          ? lbOf((await ctx.api.call(LB, 'GET', `${base}/listeners/${listener}`)).listener)!
          : await find(ctx.api, 'loadbalancers', p.loadbalancer, 'load balancer');
      return {
        lbId,
        fields: defined({
          listener_id: listener,
          loadbalancer_id: p.loadbalancer === undefined ? undefined : lbId,
          lb_algorithm: p.lb_algorithm,
          protocol: p.protocol,
          session_persistence: p.session_persistence,
          name: named(ctx, p),
          description: p.description,
          admin_state_up: p.admin_state_up,
          project_id: p.tenant_id,
        }),
      };
    },
  ),
  'OS::Octavia::PoolMember': member(),
  'OS::Octavia::HealthMonitor': child(
    'healthmonitors',
    'healthmonitor',
    {
      properties: [
        'pool',
        'type',
        'delay',
        'timeout',
        'max_retries',
        'max_retries_down',
        'url_path',
        'expected_codes',
        'http_method',
        'admin_state_up',
        'tenant_id',
      ],
      required: ['pool', 'type', 'delay', 'timeout', 'max_retries'],
      updatable: ['delay', 'timeout', 'max_retries', 'max_retries_down', 'url_path', 'expected_codes', 'http_method', 'admin_state_up'],
      attributes: ['pools', 'type', 'delay', 'timeout', 'max_retries'],
    },
    async (ctx, p) => {
      const pool = await find(ctx.api, 'pools', p.pool, 'pool');
      return {
        lbId: lbOf((await ctx.api.call(LB, 'GET', `${base}/pools/${pool}`)).pool)!,
        fields: defined({
          pool_id: pool,
          type: p.type,
          delay: p.delay,
          timeout: p.timeout,
          max_retries: p.max_retries,
          max_retries_down: p.max_retries_down,
          url_path: p.url_path,
          expected_codes: p.expected_codes,
          http_method: p.http_method,
          admin_state_up: p.admin_state_up,
          project_id: p.tenant_id,
        }),
      };
    },
  ),
};

/** A member lives under its pool's path, which its view does not name: the data keeps the pool's
 * id (Heat's pool_id attribute); a member whose data was never recorded is looked for in every pool. */
function member(): ResourceType {
  const poolOf = async (ctx: ResourceContext, id: string, data: Record<string, unknown>): Promise<string | undefined> => {
    if (typeof data.pool_id === 'string') return data.pool_id;
    const { pools } = await ctx.api.call(LB, 'GET', `${base}/pools`);
    return (pools as { id: string; members: { id: string }[] }[]).find((p) => p.members.some((m) => m.id === id))?.id;
  };
  const lbOfPool = async (ctx: ResourceContext, pool: string) => lbOf((await shown(ctx, `${base}/pools/${pool}`, 'pool')) ?? {});
  return {
    properties: ['pool', 'address', 'protocol_port', 'subnet', 'weight', 'admin_state_up', 'monitor_address', 'monitor_port', 'tenant_id'],
    required: ['pool', 'address', 'protocol_port'],
    updatable: ['weight', 'admin_state_up'],
    attributes: ['address', 'pool_id', 'protocol_port', 'weight'],
    async create(ctx, p) {
      const pool = await find(ctx.api, 'pools', p.pool, 'pool');
      const fields = defined({
        address: p.address,
        protocol_port: p.protocol_port,
        subnet_id: p.subnet === undefined ? undefined : await lookup(ctx.api, 'network', '/v2.0/subnets', 'subnets', p.subnet, 'subnet'),
        weight: p.weight,
        admin_state_up: p.admin_state_up,
        monitor_address: p.monitor_address,
        monitor_port: p.monitor_port,
        project_id: p.tenant_id,
        ...tagged(ctx),
      });
      const lbId = (await lbOfPool(ctx, pool))!;
      const made = await applied(ctx, lbId, `Creating member ${ctx.name}`, () => ctx.api.call(LB, 'POST', `${base}/pools/${pool}/members`, { member: fields }));
      const id = made.member.id as string;
      await ctx.made(id);
      await settled(ctx, lbId);
      return { id, data: { ...(await ctx.api.call(LB, 'GET', `${base}/pools/${pool}/members/${id}`)).member, pool_id: pool } };
    },
    async update(ctx, id, changed, data) {
      const pool = (await poolOf(ctx, id, data))!;
      await change(ctx, (await lbOfPool(ctx, pool))!, `Updating member ${id}`, () =>
        ctx.api.call(LB, 'PUT', `${base}/pools/${pool}/members/${id}`, { member: defined(changed) }),
      );
      return { ...(await ctx.api.call(LB, 'GET', `${base}/pools/${pool}/members/${id}`)).member, pool_id: pool };
    },
    async delete(ctx, id, data) {
      const pool = await poolOf(ctx, id, data);
      const lbId = pool && (await lbOfPool(ctx, pool));
      // The member went with its pool.
      if (!pool || !lbId || !(await ctx.api.callOr404(LB, 'GET', `${base}/pools/${pool}/members/${id}`))) return;
      await change(ctx, lbId, `Deleting member ${id}`, () => ctx.api.callOr404(LB, 'DELETE', `${base}/pools/${pool}/members/${id}`), true);
    },
    async orphan(ctx) {
      const { pools } = await ctx.api.call(LB, 'GET', `${base}/pools`);
      for (const p of pools as { id: string }[]) {
        const id = await taggedIn(ctx, `${base}/pools/${p.id}/members`, 'members');
        if (id) return id;
      }
      return undefined;
    },
  };
}
