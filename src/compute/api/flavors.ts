import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { nextLink, pageOf } from '../../lib/http/paging.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { createFlavor, deleteFlavor, getFlavor, listFlavors, type Flavor, type FlavorFilter } from '../flavors.ts';

const links = (base: string, id: string) => [
  { rel: 'self', href: `${base}/compute/v2.1/flavors/${id}` },
  { rel: 'bookmark', href: `${base}/compute/flavors/${id}` },
];

export const flavorView = (base: string, f: Flavor) => ({
  id: f.id,
  name: f.name,
  ram: f.ram,
  disk: f.disk,
  vcpus: f.vcpus,
  // Nova shows no swap as an empty string.
  swap: f.swap || '',
  'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
  'OS-FLV-DISABLED:disabled': false,
  'os-flavor-access:is_public': f.isPublic,
  rxtx_factor: f.rxtxFactor,
  links: links(base, f.id),
});

const Count = (min: number) => Type.Integer({ minimum: min, maximum: 2 ** 31 - 1 });
const CreateBody = Type.Object({
  flavor: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }),
    id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\w.\\- ]+$' }), Type.Null()])),
    ram: Count(1),
    vcpus: Count(1),
    disk: Count(0),
    'OS-FLV-EXT-DATA:ephemeral': Type.Optional(Count(0)),
    swap: Type.Optional(Count(0)),
    rxtx_factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3.4e38 })),
    'os-flavor-access:is_public': Type.Optional(Type.Boolean()),
  }),
});
const ListQuery = Type.Object({
  minRam: Type.Optional(Type.Integer({ minimum: 0 })),
  minDisk: Type.Optional(Type.Integer({ minimum: 0 })),
  is_public: Type.Optional(Type.String()),
  sort_key: Type.Optional(Type.Union(['id', 'name', 'memory_mb', 'vcpus', 'root_gb', 'flavorid', 'created_at'].map((k) => Type.Literal(k)))),
  sort_dir: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.String()),
  marker: Type.Optional(Type.String()),
});
const ById = Type.Object({ flavor_id: Type.String() });

/** `is_public` as Nova reads it: none/all for every flavor, else a boolean; public by default. */
function publicFilter(value: string | undefined): boolean | undefined {
  const v = (value ?? 'true').toLowerCase();
  if (v === 'none' || v === 'all') return undefined;
  if (['true', 't', '1', 'yes', 'y', 'on'].includes(v)) return true;
  if (['false', 'f', '0', 'no', 'n', 'off'].includes(v)) return false;
  throw badRequest(`Invalid is_public filter [${value}]`);
}

export function flavorRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  for (const [path, detailed] of [
    ['/flavors', false],
    ['/flavors/detail', true],
  ] as const) {
    api.get(path, { config: { policy: 'compute:flavors:index' }, schema: { querystring: ListQuery } }, async (request) => {
      const q = request.query;
      const page = pageOf(q);
      const filter: FlavorFilter = {
        isPublic: publicFilter(q.is_public),
        minRam: q.minRam,
        minDisk: q.minDisk,
        sortKey: (q.sort_key ?? 'flavorid') as FlavorFilter['sortKey'],
        sortDir: q.sort_dir ?? 'asc',
        ...page,
      };
      const rows = await listFlavors(db, authOf(request), filter);
      const base = request.publicUrl;
      const next = nextLink(request, page, rows);
      return {
        flavors: rows.map((f) => (detailed ? flavorView(base, f) : { id: f.id, name: f.name, links: links(base, f.id) })),
        ...(next ? { flavors_links: [{ rel: 'next', href: next }] } : {}),
      };
    });
  }

  api.get('/flavors/:flavor_id', { config: { policy: 'compute:flavors:show' }, schema: { params: ById } }, async (request) => ({
    flavor: flavorView(request.publicUrl, await getFlavor(db, authOf(request), request.params.flavor_id)),
  }));

  api.post('/flavors', { config: { policy: 'compute:flavor-manage:create' }, schema: { body: CreateBody } }, async (request) => {
    const f = request.body.flavor;
    const flavor = await store.tx((tx) =>
      createFlavor(tx, {
        id: f.id,
        name: f.name.trim(),
        ram: f.ram,
        vcpus: f.vcpus,
        disk: f.disk,
        ephemeral: f['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
        swap: f.swap ?? 0,
        rxtxFactor: f.rxtx_factor ?? 1,
        isPublic: f['os-flavor-access:is_public'] ?? true,
      }),
    );
    return { flavor: flavorView(request.publicUrl, flavor) };
  });

  api.delete('/flavors/:flavor_id', { config: { policy: 'compute:flavor-manage:delete' }, schema: { params: ById } }, async (request, reply) => {
    await deleteFlavor(db, authOf(request), request.params.flavor_id);
    return reply.status(202).send();
  });
}
