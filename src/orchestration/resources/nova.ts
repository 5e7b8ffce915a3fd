import { randomUUID } from 'node:crypto';
import { ServiceError, type Services } from '../services.ts';
import { defined, lookup, physicalName, waitFor, type ResourceContext, type ResourceType } from './types.ts';

export async function flavorId(api: Services, ref: unknown): Promise<string> {
  const found = await api.callOr404('compute', 'GET', `/flavors/${encodeURIComponent(String(ref))}`);
  if (found) return found.flavor.id;
  const { flavors } = await api.call('compute', 'GET', '/flavors/detail?is_public=None');
  const named = (flavors as { id: string; name: string }[]).filter((f) => f.name === String(ref));
  if (named.length !== 1) throw new ServiceError('NotFound', `The Flavor (${String(ref)}) could not be found.`, 404);
  return named[0]!.id;
}

export async function imageId(api: Services, ref: unknown): Promise<string> {
  const { images } = await api.call('image', 'GET', `/v2/images?name=${encodeURIComponent(String(ref))}`);
  if (images.length > 1) throw new ServiceError('PhysicalResourceNameAmbiguity', `Multiple physical resources were found with name (${String(ref)}).`, 409);
  if (images.length === 1) return images[0].id;
  const byId = await api.callOr404('image', 'GET', `/v2/images/${encodeURIComponent(String(ref))}`);
  if (byId) return byId.id;
  throw new ServiceError('NotFound', `The Image (${String(ref)}) could not be found.`, 404);
}

/** Nova's networks of a server, from Heat's: a network by name or id, a port, a fixed address. */
async function networks(api: Services, list: Record<string, any>[] | undefined) {
  if (!list) return undefined;
  return Promise.all(
    list.map(async (n) =>
      n.port
        ? { port: String(n.port) }
        : defined({
            uuid: (n.network ?? n.uuid) ? await lookup(api, 'network', '/v2.0/networks', 'networks', n.network ?? n.uuid, 'network') : undefined,
            fixed_ip: n.fixed_ip,
          }),
    ),
  );
}

async function serverView(ctx: ResourceContext, id: string) {
  return (await ctx.api.call('compute', 'GET', `/servers/${id}`)).server as Record<string, any>;
}

/** Every address of a server, across its networks, in Nova's order. */
const addressesOf = (server: Record<string, any>) =>
  Object.values((server.addresses ?? {}) as Record<string, { addr: string; 'OS-EXT-IPS:type'?: string }[]>).flat();

/** Sets a flavor's extra specs to exactly these (Nova merges what it is given). */
async function setExtraSpecs(api: Services, id: string, specs: Record<string, unknown>, old: Record<string, unknown> = {}) {
  for (const key of Object.keys(old)) if (!(key in specs)) await api.callOr404('compute', 'DELETE', `/flavors/${id}/os-extra_specs/${encodeURIComponent(key)}`);
  const strings = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, String(v)]));
  if (Object.keys(strings).length) await api.call('compute', 'POST', `/flavors/${id}/os-extra_specs`, { extra_specs: strings });
}

async function flavorView(api: Services, id: string) {
  const { flavor } = await api.call('compute', 'GET', `/flavors/${id}`);
  const { extra_specs } = await api.call('compute', 'GET', `/flavors/${id}/os-extra_specs`);
  return { ...flavor, extra_specs, is_public: flavor['os-flavor-access:is_public'] };
}

export const NOVA: Record<string, ResourceType> = {
  'OS::Nova::Server': {
    properties: [
      ...['name', 'image', 'flavor', 'key_name', 'networks', 'security_groups', 'user_data', 'user_data_format', 'config_drive', 'metadata'],
      ...['availability_zone', 'block_device_mapping_v2', 'admin_pass', 'scheduler_hints'],
    ],
    required: ['flavor'],
    updatable: ['name', 'metadata'],
    attributes: ['name', 'first_address', 'networks', 'addresses', 'accessIPv4', 'accessIPv6', 'instance_name', 'console_urls'],
    async create(ctx, p) {
      const bdm = p.block_device_mapping_v2 as Record<string, any>[] | undefined;
      const body = defined({
        name: p.name ?? physicalName(ctx),
        flavorRef: await flavorId(ctx.api, p.flavor),
        imageRef: p.image ? await imageId(ctx.api, p.image) : bdm ? '' : undefined,
        key_name: p.key_name,
        networks: await networks(ctx.api, p.networks),
        security_groups: (p.security_groups as unknown[] | undefined)?.map((name) => ({ name: String(name) })),
        user_data: p.user_data ? Buffer.from((await ctx.config(String(p.user_data))) ?? String(p.user_data)).toString('base64') : undefined,
        config_drive: p.config_drive,
        // The server names its stack and resource, so that one whose id a crash kept from being recorded is still found (orphan).
        metadata: { ...(p.metadata ?? {}), heat_stack_id: ctx.stackId, heat_resource_name: ctx.name },
        availability_zone: p.availability_zone,
        adminPass: p.admin_pass,
        block_device_mapping_v2: bdm?.map((b) =>
          defined({
            uuid: b.volume_id ?? b.image ?? b.image_id ?? b.snapshot_id,
            source_type: b.volume_id ? 'volume' : b.snapshot_id ? 'snapshot' : b.image || b.image_id ? 'image' : 'blank',
            destination_type: b.destination_type ?? 'volume',
            boot_index: b.boot_index ?? 0,
            volume_size: b.volume_size,
            delete_on_termination: b.delete_on_termination ?? false,
          }),
        ),
      });
      const made = await ctx.api.call('compute', 'POST', '/servers', { server: body });
      const id = made.server.id as string;
      await ctx.made(id);
      const server = await waitFor(ctx, `Server ${id}`, async () => {
        const s = await serverView(ctx, id);
        if (s.status === 'ERROR') throw new ServiceError('ResourceInError', `Went to status ERROR due to "${s.fault?.message ?? 'Unknown'}"`, 500);
        return s.status === 'ACTIVE' ? s : undefined;
      });
      return { id, data: server };
    },
    async orphan(ctx) {
      const { servers } = await ctx.api.call('compute', 'GET', '/servers/detail');
      return (servers as { id: string; metadata?: Record<string, string> }[]).find(
        (s) => s.metadata?.heat_stack_id === ctx.stackId && s.metadata?.heat_resource_name === ctx.name,
      )?.id;
    },
    // As Heat does: the ports the template gave the old server are detached from it, so that its
    // replacement can take them.
    async prepareReplace(ctx, id, properties) {
      const ports = ((properties.networks ?? []) as Record<string, any>[]).filter((n) => n.port).map((n) => String(n.port));
      for (const port of ports) {
        await ctx.api.callOr404('compute', 'DELETE', `/servers/${id}/os-interface/${port}`);
        await waitFor(ctx, `Detaching port ${port}`, async () => {
          const p = await ctx.api.callOr404('network', 'GET', `/v2.0/ports/${port}`);
          return !p || !p.port.device_id ? true : undefined;
        });
      }
    },
    async update(ctx, id, changed) {
      if ('name' in changed) await ctx.api.call('compute', 'PUT', `/servers/${id}`, { server: { name: changed.name ?? physicalName(ctx) } });
      if ('metadata' in changed) await ctx.api.call('compute', 'PUT', `/servers/${id}/metadata`, { metadata: changed.metadata ?? {} });
      return serverView(ctx, id);
    },
    async delete(ctx, id) {
      if (!(await ctx.api.callOr404('compute', 'GET', `/servers/${id}`))) return;
      await ctx.api.callOr404('compute', 'DELETE', `/servers/${id}`);
      await waitFor(ctx, `Deleting server ${id}`, async () => {
        const s = await ctx.api.callOr404('compute', 'GET', `/servers/${id}`);
        if (s?.server.status === 'ERROR') throw new ServiceError('ResourceInError', `Server ${id} went to status ERROR while being deleted`, 500);
        return s ? undefined : true;
      });
    },
    attribute(server, name) {
      if (name === 'first_address') return addressesOf(server).find((a) => a['OS-EXT-IPS:type'] !== 'floating')?.addr ?? '';
      if (name === 'networks') {
        return Object.fromEntries(
          Object.entries((server.addresses ?? {}) as Record<string, { addr: string }[]>).map(([net, list]) => [net, list.map((a) => a.addr)]),
        );
      }
      if (name === 'instance_name') return server['OS-EXT-SRV-ATTR:instance_name'];
      return undefined;
    },
  },
  // Admin-only, as Nova's flavor-manage is: a member's stack fails with Nova's 403.
  'OS::Nova::Flavor': {
    properties: ['name', 'flavorid', 'ram', 'vcpus', 'disk', 'swap', 'ephemeral', 'rxtx_factor', 'is_public', 'extra_specs'],
    required: ['ram', 'vcpus'],
    updatable: ['extra_specs'],
    attributes: ['name', 'is_public', 'extra_specs'],
    async create(ctx, p) {
      // Nova's flavors carry no tag: an id Heat picks itself is recorded before the flavor is
      // made, so a crash in between leaves nothing the stack's delete would not find. One the
      // template names may be another's, and is recorded once made.
      const id = p.flavorid === undefined ? randomUUID() : String(p.flavorid);
      if (p.flavorid === undefined) await ctx.made(id);
      await ctx.api.call('compute', 'POST', '/flavors', {
        flavor: defined({
          id,
          name: p.name ?? physicalName(ctx),
          ram: p.ram,
          vcpus: p.vcpus,
          disk: p.disk ?? 0,
          swap: p.swap,
          'OS-FLV-EXT-DATA:ephemeral': p.ephemeral,
          rxtx_factor: p.rxtx_factor,
          'os-flavor-access:is_public': p.is_public,
        }),
      });
      if (p.flavorid !== undefined) await ctx.made(id);
      await setExtraSpecs(ctx.api, id, p.extra_specs ?? {});
      return { id, data: await flavorView(ctx.api, id) };
    },
    async update(ctx, id, changed, data) {
      await setExtraSpecs(ctx.api, id, changed.extra_specs ?? {}, (data.extra_specs ?? {}) as Record<string, unknown>);
      return flavorView(ctx.api, id);
    },
    async delete(ctx, id) {
      // Looked at first: a member's stack that was refused the flavor deletes nothing.
      if (!(await ctx.api.callOr404('compute', 'GET', `/flavors/${id}`))) return;
      await ctx.api.callOr404('compute', 'DELETE', `/flavors/${id}`);
    },
  },
  'OS::Nova::KeyPair': {
    properties: ['name', 'public_key', 'save_private_key', 'type', 'user'],
    required: ['name'],
    attributes: ['public_key', 'private_key'],
    async create(ctx, p) {
      const made = await ctx.api.call('compute', 'POST', '/os-keypairs', { keypair: defined({ name: p.name, public_key: p.public_key }) });
      const kp = made.keypair;
      // The private key is kept only when asked, as Heat does.
      return {
        id: kp.name,
        data: { name: kp.name, public_key: kp.public_key, fingerprint: kp.fingerprint, private_key: p.save_private_key ? (kp.private_key ?? '') : '' },
      };
    },
    async delete(ctx, id) {
      await ctx.api.callOr404('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(id)}`);
    },
  },
};
