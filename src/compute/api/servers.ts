import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { nextLink, pageOf } from '../../lib/http/paging.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { createServers, deleteServer, getServer, renameServer, snapshotting } from '../servers.ts';
import { listServers, type ServerFilter } from '../listing.ts';
import type { Quotas } from '../quotas.ts';
import { serverSummary, serverView, serverLinks } from './server-view.ts';
import { serverAddresses, type ServerAddress } from '../../network/for-compute.ts';
import { attachedVolumeIds } from '../volumes.ts';
import { parseMappings } from '../boot-volumes.ts';
import type { VolumeService } from '../../volume/service.ts';

const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' });
const Nic = Type.Object({
  uuid: Type.Optional(Type.String({ format: 'uuid' })),
  port: Type.Optional(Type.String({ format: 'uuid' })),
  fixed_ip: Type.Optional(Type.String({ format: 'ipv4' })),
});
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
    networks: Type.Optional(Type.Array(Nic)),
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
  }),
  'os:scheduler_hints': Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
const ListQuery = Type.Object({
  all_tenants: Type.Optional(Type.String()),
  project_id: Type.Optional(Type.String()),
  tenant_id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  image: Type.Optional(Type.String()),
  flavor: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  ip: Type.Optional(Type.String()),
  ip6: Type.Optional(Type.String()),
  'changes-since': Type.Optional(Type.String()),
  sort_key: Type.Optional(Type.Union(['created_at', 'updated_at', 'display_name', 'uuid', 'vm_state', 'host'].map((k) => Type.Literal(k)))),
  sort_dir: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.String()),
  marker: Type.Optional(Type.String()),
});
const ById = Type.Object({ server_id: Type.String() });
const UpdateBody = Type.Object({ server: Type.Object({ name: Type.Optional(Name) }) });

/** Nova takes all_tenants as present-or-truthy. */
const truthy = (v: string | undefined) => v !== undefined && !['0', 'false', 'f', 'no', 'n', 'off'].includes(v.toLowerCase());

/** A user_data that is not base64 is refused at the door, as Nova does. */
function checkUserData(data: string | undefined): void {
  if (data !== undefined && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(data)) throw badRequest('Invalid input for field/attribute user_data. Value: not base64.');
}

const parseBool = (v: boolean | string | undefined) => (typeof v === 'string' ? ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase()) : (v ?? false));

export function serverRoutes(app: FastifyInstance, store: Store, quotas: Quotas, volumes?: VolumeService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  for (const [path, detailed] of [
    ['/servers', false],
    ['/servers/detail', true],
  ] as const) {
    api.get(path, { config: { policy: 'compute:servers:index' }, schema: { querystring: ListQuery } }, async (request) => {
      const auth = authOf(request);
      const q = request.query;
      const allProjects = truthy(q.all_tenants) && allows('compute:servers:index:get_all_tenants', auth);
      const page = pageOf(q);
      const filter: ServerFilter = {
        allProjects,
        projectId: q.project_id ?? q.tenant_id,
        name: q.name,
        status: q.status,
        image: q.image,
        flavor: q.flavor,
        host: q.host,
        ip: q.ip,
        ip6: q.ip6,
        changesSince: q['changes-since'],
        sortKey: (q.sort_key ?? 'created_at') as ServerFilter['sortKey'],
        sortDir: q.sort_dir ?? 'desc',
        ...page,
      };
      const rows = await listServers(db, auth, filter);
      const base = request.publicUrl;
      const busy = detailed
        ? await snapshotting(
            db,
            rows.map((s) => s.id),
          )
        : new Set<string>();
      const addresses = detailed ? await serverAddresses(db, rows) : new Map<string, ServerAddress[]>();
      const volumes = detailed
        ? await attachedVolumeIds(
            db,
            rows.map((s) => s.id),
          )
        : new Map<string, string[]>();
      const next = nextLink(request, page, rows);
      return {
        servers: rows.map((s) => (detailed ? serverView(base, auth, s, addresses.get(s.id), busy.has(s.id), volumes.get(s.id)) : serverSummary(base, s))),
        ...(next ? { servers_links: [{ rel: 'next', href: next }] } : {}),
      };
    });
  }

  api.get('/servers/:server_id', { config: { policy: 'compute:servers:show' }, schema: { params: ById } }, async (request) => {
    const auth = authOf(request);
    const s = await getServer(db, auth, request.params.server_id);
    const addresses = (await serverAddresses(db, [s])).get(s.id);
    const volumes = (await attachedVolumeIds(db, [s.id])).get(s.id);
    return { server: serverView(request.publicUrl, auth, s, addresses, (await snapshotting(db, [s.id])).has(s.id), volumes) };
  });

  api.post('/servers', { config: { policy: 'compute:servers:create' }, schema: { body: CreateBody } }, async (request, reply) => {
    const auth = authOf(request);
    const b = request.body.server;
    checkUserData(b.user_data);
    const min = b.min_count ?? 1;
    const max = b.max_count ?? min;
    if (max < min) throw badRequest('min_count must be <= max_count');
    const created = await store.tx((tx) =>
      createServers(
        tx,
        auth,
        {
          name: b.name,
          imageRef: b.imageRef ?? '',
          volumes: parseMappings((b.block_device_mapping_v2 ?? []).map((m) => ({ ...m, device_name: m.device_name ?? undefined }))),
          flavorRef: String(b.flavorRef),
          networks: b.networks?.map((n) => ({ networkId: n.uuid, portId: n.port, fixedIp: n.fixed_ip })),
          securityGroups: (b.security_groups ?? [{ name: 'default' }]).map((g) => g.name),
          keyName: b.key_name,
          userData: b.user_data?.replace(/\s/g, ''),
          metadata: b.metadata ?? {},
          configDrive: parseBool(b.config_drive),
          availabilityZone: b.availability_zone || undefined,
          count: max,
        },
        quotas,
        volumes,
      ),
    );
    const first = created[0]!;
    return reply.status(202).send({
      server: {
        id: first.id,
        links: serverLinks(request.publicUrl, first.id),
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: first.securityGroups.map((name) => ({ name })),
        // Nubo sets no root password in the guest; the key pair is the way in.
        adminPass: '',
      },
    });
  });

  api.put('/servers/:server_id', { config: { policy: 'compute:servers:update' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    const auth = authOf(request);
    const { name } = request.body.server;
    const s =
      name === undefined ? await getServer(db, auth, request.params.server_id) : await store.tx((tx) => renameServer(tx, auth, request.params.server_id, name));
    return { server: serverView(request.publicUrl, auth, s, (await serverAddresses(db, [s])).get(s.id)) };
  });

  api.delete('/servers/:server_id', { config: { policy: 'compute:servers:delete' }, schema: { params: ById } }, async (request, reply) => {
    await store.tx((tx) => deleteServer(tx, authOf(request), request.params.server_id));
    return reply.status(204).send();
  });
}
