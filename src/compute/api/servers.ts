import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { nextLink, pageOf } from '../../lib/http/paging.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { randomBytes } from 'node:crypto';
import { createServers, getServer, updateServer, type ServerUpdate } from '../servers.ts';
import { deleteOrSoftDelete } from '../soft-delete.ts';
import { recordAction } from '../instance-actions.ts';
import { actionContext } from './instance-actions.ts';
import { listServers, SORT_KEYS, type ServerFilter, type SortKey } from '../listing.ts';
import type { Quotas } from '../quotas.ts';
import { factOf, factsOf, serverSummary, serverView, serverLinks } from './server-view.ts';
import { parseMappings } from '../boot-volumes.ts';
import type { VolumeService } from '../../volume/service.ts';
import { versionOf, type Microversion } from './microversion.ts';
import { groupHint } from './server-groups.ts';
import { Description, Hostname, Tag, introducedIn, networksOf, Nic, removedIn, TrustedCerts } from './server-fields.ts';

const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' });
const CreateBody = Type.Object({
  server: Type.Object({
    name: Name,
    // Empty or absent when the server boots from a volume.
    imageRef: Type.Optional(Type.String()),
    block_device_mapping_v2: Type.Optional(
      Type.Array(
        Type.Object({
          boot_index: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Null()])),
          uuid: Type.Optional(Type.String()),
          source_type: Type.Optional(Type.String()),
          destination_type: Type.Optional(Type.String()),
          volume_size: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
          delete_on_termination: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
          device_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
          volume_type: Type.Optional(Type.String()),
          guest_format: Type.Optional(Type.Union([Type.String(), Type.Null()])),
          disk_bus: Type.Optional(Type.String()),
          device_type: Type.Optional(Type.String()),
          tag: Type.Optional(Type.String()),
          no_device: Type.Optional(Type.Unknown()),
        }),
      ),
    ),
    flavorRef: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
    // A list of NICs; from 2.37 also "auto" or "none".
    networks: Type.Optional(Type.Union([Type.Array(Nic), Type.String()])),
    security_groups: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }))),
    key_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    user_data: Type.Optional(Type.String({ maxLength: 65535 })),
    metadata: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }))),
    config_drive: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
    availability_zone: Type.Optional(Type.String()),
    min_count: Type.Optional(Type.Integer({ minimum: 1 })),
    max_count: Type.Optional(Type.Integer({ minimum: 1 })),
    adminPass: Type.Optional(Type.String()),
    accessIPv4: Type.Optional(Type.String({ format: 'ipv4' })),
    accessIPv6: Type.Optional(Type.String({ format: 'ipv6' })),
    'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
    description: Type.Optional(Description),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
    hostname: Type.Optional(Hostname),
    trusted_image_certificates: Type.Optional(TrustedCerts),
  }),
  'os:scheduler_hints': Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

// Nova takes every query parameter any number of times (the last counts), sort keys in order.
const Many = Type.Array(Type.String());
const LIST_PARAMS = [
  'all_tenants',
  'project_id',
  'tenant_id',
  'name',
  'status',
  'image',
  'flavor',
  'host',
  'ip',
  'ip6',
  'changes-since',
  'changes-before',
  'tags',
  'tags-any',
  'not-tags',
  'not-tags-any',
  'locked',
  'limit',
  'marker',
] as const;
const ListQuery = Type.Object({
  ...Object.fromEntries(LIST_PARAMS.map((p) => [p, Type.Optional(Many)])),
  sort_key: Type.Optional(Type.Array(Type.Union(SORT_KEYS.map((k) => Type.Literal(k))))),
  sort_dir: Type.Optional(Type.Array(Type.Union([Type.Literal('asc'), Type.Literal('desc')]))),
});
type ListParams = Partial<Record<(typeof LIST_PARAMS)[number], string[]>> & { sort_key?: SortKey[]; sort_dir?: ('asc' | 'desc')[] };
/** Filters Nova knows and Nubo does not apply (its servers have no such field, or the admin's only): accepted, as older Nova ignores unknown ones. */
const IGNORED_PARAMS = new Set([
  'user_id',
  'launch_index',
  'image_ref',
  'kernel_id',
  'ramdisk_id',
  'hostname',
  'key_name',
  'power_state',
  'vm_state',
  'task_state',
  'node',
  'reservation_id',
  'launched_at',
  'terminated_at',
  'availability_zone',
  'display_name',
  'description',
  'display_description',
  'locked_by',
  'uuid',
  'root_device_name',
  'config_drive',
  'access_ip_v4',
  'access_ip_v6',
  'auto_disk_config',
  'progress',
  'soft_deleted',
  'deleted',
  'created_at',
]);
const ById = Type.Object({ server_id: Type.String() });
const UpdateBody = Type.Object({
  server: Type.Object({
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    hostname: Type.Optional(Hostname),
    accessIPv4: Type.Optional(Type.String({ format: 'ipv4' })),
    accessIPv6: Type.Optional(Type.String({ format: 'ipv6' })),
    'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
  }),
});

/** A password as Nova makes one: 12 characters without look-alikes. */
export function randomPassword(length = 12): string {
  const chars = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(length), (b) => chars[b % chars.length]).join('');
}

/** Nova takes all_tenants as present-or-truthy. */
const truthy = (v: string | undefined) => v !== undefined && !['0', 'false', 'f', 'no', 'n', 'off'].includes(v.toLowerCase());

/** A user_data that is not base64 is refused at the door, as Nova does. */
function checkUserData(data: string | undefined): void {
  if (data !== undefined && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(data)) throw badRequest('Invalid input for field/attribute user_data. Value: not base64.');
}

const parseBool = (v: boolean | string | undefined) => (typeof v === 'string' ? ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase()) : (v ?? false));

/** From 2.75 a query parameter Nova does not know is a 400; before, it is ignored. */
function checkParams(query: Record<string, unknown>, v: Microversion): void {
  if (v.below('2.75')) return;
  for (const key of Object.keys(query)) {
    if (!(LIST_PARAMS as readonly string[]).includes(key) && !IGNORED_PARAMS.has(key) && key !== 'sort_key' && key !== 'sort_dir') {
      throw badRequest(
        `Invalid input for query parameters ${key}. Value: ${String(query[key])}. Additional properties are not allowed ('${key}' was unexpected)`,
      );
    }
  }
}

/** The list's filter from its query, at the request's microversion. */
function filterOf(q: ListParams, allProjects: boolean, v: Microversion): ServerFilter {
  const last = (p: (typeof LIST_PARAMS)[number]) => q[p]?.at(-1);
  const locked = last('locked');
  if (locked !== undefined && !['true', 'false'].includes(locked.toLowerCase())) {
    throw badRequest(`Unrecognized value '${locked}', acceptable values are 'true' or 'false'`);
  }
  return {
    allProjects,
    projectId: last('project_id') ?? last('tenant_id'),
    name: last('name'),
    status: last('status'),
    unknownStatusMatchesNone: v.below('2.38'),
    image: last('image'),
    flavor: last('flavor'),
    host: last('host'),
    ip: last('ip'),
    ip6: last('ip6'),
    changesSince: last('changes-since'),
    ...(v.atLeast('2.66') ? { changesBefore: last('changes-before') } : {}),
    ...(v.atLeast('2.26') ? { tags: q.tags, tagsAny: q['tags-any'], notTags: q['not-tags'], notTagsAny: q['not-tags-any'] } : {}),
    ...(v.atLeast('2.73') && locked !== undefined ? { locked: locked.toLowerCase() === 'true' } : {}),
    sort: [],
    ...pageOf({ limit: last('limit'), marker: last('marker') }),
  };
}

export function serverRoutes(app: FastifyInstance, store: Store, quotas: Quotas, volumes?: VolumeService, reclaimIntervalS = 0): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  for (const [path, detailed] of [
    ['/servers', false],
    ['/servers/detail', true],
  ] as const) {
    api.get(path, { config: { policy: 'compute:servers:index' }, schema: { querystring: ListQuery } }, async (request) => {
      const auth = authOf(request);
      const v = versionOf(request);
      const q = request.query as ListParams;
      checkParams(q, v);
      const allProjects = truthy(q.all_tenants?.at(-1)) && allows('compute:servers:index:get_all_tenants', auth);
      const keys = q.sort_key ?? [];
      const dirs = q.sort_dir ?? [];
      if (dirs.length > Math.max(keys.length, 1)) throw badRequest('Sort direction size exceeds sort key size');
      const filter = filterOf(q, allProjects, v);
      // Keys without a direction take the first one given, as Nova sorts them.
      filter.sort = keys.length ? keys.map((key, i) => ({ key, dir: dirs[i] ?? dirs[0] ?? 'desc' })) : [{ key: 'created_at', dir: dirs[0] ?? 'desc' }];
      const rows = await listServers(db, auth, filter);
      const base = request.publicUrl;
      const facts = detailed ? await factsOf(db, rows) : undefined;
      const next = nextLink(request, filter, rows);
      return {
        servers: rows.map((s) => (facts ? serverView(base, auth, s, facts.get(s.id)!, v, 'detail') : serverSummary(base, s))),
        ...(next ? { servers_links: [{ rel: 'next', href: next }] } : {}),
      };
    });
  }

  api.get('/servers/:server_id', { config: { policy: 'compute:servers:show' }, schema: { params: ById } }, async (request) => {
    const auth = authOf(request);
    const s = await getServer(db, auth, request.params.server_id);
    return { server: serverView(request.publicUrl, auth, s, await factOf(db, s), versionOf(request)) };
  });

  api.post('/servers', { config: { policy: 'compute:servers:create' }, schema: { body: CreateBody } }, async (request, reply) => {
    const auth = authOf(request);
    const v = versionOf(request);
    const b = request.body.server;
    introducedIn(v, 'server', b, { description: '2.19', tags: '2.52', trusted_image_certificates: '2.63', hostname: '2.90' });
    removedIn(v, 'server', b, { personality: '2.57' });
    for (const m of b.block_device_mapping_v2 ?? []) introducedIn(v, 'block_device_mapping_v2', m, { volume_type: '2.67' });
    checkUserData(b.user_data);
    const min = b.min_count ?? 1;
    const max = b.max_count ?? min;
    if (max < min) throw badRequest('min_count must be <= max_count');
    const ctx = actionContext(request);
    const created = await store.tx(async (tx) => {
      const made = await createServers(
        tx,
        auth,
        {
          name: b.name,
          imageRef: b.imageRef ?? '',
          volumes: parseMappings((b.block_device_mapping_v2 ?? []).map((m) => ({ ...m, device_name: m.device_name ?? undefined }))),
          flavorRef: String(b.flavorRef),
          networks: networksOf(b.networks, v),
          securityGroups: (b.security_groups ?? [{ name: 'default' }]).map((g) => g.name),
          keyName: b.key_name,
          userData: b.user_data?.replace(/\s/g, ''),
          metadata: b.metadata ?? {},
          configDrive: parseBool(b.config_drive),
          availabilityZone: b.availability_zone || undefined,
          count: max,
          description: b.description,
          tags: b.tags,
          hostname: b.hostname,
          trustedCerts: b.trusted_image_certificates,
          group: groupHint(request.body['os:scheduler_hints']),
          accessIpv4: b.accessIPv4,
          accessIpv6: b.accessIPv6,
        },
        quotas,
        volumes,
      );
      for (const s of made) await recordAction(tx, ctx, s.id, { action: 'create', event: 'compute__do_build_and_run_instance' });
      return made;
    });
    const first = created[0]!;
    return reply.status(202).send({
      server: {
        id: first.id,
        links: serverLinks(request.publicUrl, first.id),
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: first.securityGroups.map((name) => ({ name })),
        // Nova answers with the password asked for, or one it made (enable_instance_password); as
        // Nova's libvirt driver by default, Nubo sets none in the guest: the key pair is the way in.
        adminPass: b.adminPass ?? randomPassword(),
      },
    });
  });

  api.put('/servers/:server_id', { config: { policy: 'compute:servers:update' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const auth = authOf(request);
    const v = versionOf(request);
    const b = request.body.server;
    introducedIn(v, 'server', b, { description: '2.19', hostname: '2.90' });
    const change: ServerUpdate = {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.hostname !== undefined ? { hostname: b.hostname } : {}),
      ...(b.accessIPv4 !== undefined ? { accessIpv4: b.accessIPv4 } : {}),
      ...(b.accessIPv6 !== undefined ? { accessIpv6: b.accessIPv6 } : {}),
    };
    const s = await store.tx((tx) => updateServer(tx, auth, request.params.server_id, change));
    // Before 2.75 Nova answers with a narrower server than GET's.
    return { server: serverView(request.publicUrl, auth, s, await factOf(db, s), v, v.atLeast('2.75') ? 'show' : 'update') };
  });

  api.delete('/servers/:server_id', { config: { policy: 'compute:servers:delete' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteOrSoftDelete(tx, actionContext(request), request.params.server_id, reclaimIntervalS));
    return reply.status(204).send();
  });
}
