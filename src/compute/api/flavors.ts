import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { allows } from '../../lib/http/policy.ts';
import { nextLink, pageOf } from '../../lib/http/paging.ts';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import {
  createFlavor,
  deleteFlavor,
  describeFlavor,
  extraSpecsOfMany,
  FLAVOR_SORT_KEYS,
  getFlavor,
  listFlavors,
  type Flavor,
  type FlavorFilter,
  type FlavorSortKey,
} from '../flavors.ts';
import { servedFrom, versionOf, type Microversion } from './microversion.ts';
import { introducedIn } from './server-fields.ts';

const links = (base: string, id: string) => [
  { rel: 'self', href: `${base}/compute/v2.1/flavors/${id}` },
  { rel: 'bookmark', href: `${base}/compute/flavors/${id}` },
];

/** A flavor as Nova shows it at the request's microversion; extra_specs given when the caller may read them. */
export const flavorView = (base: string, f: Flavor, v: Microversion, extraSpecs?: Record<string, string>) => ({
  id: f.id,
  name: f.name,
  ram: f.ram,
  disk: f.disk,
  vcpus: f.vcpus,
  // Nova shows no swap as an empty string until 2.75.
  swap: f.swap || (v.atLeast('2.75') ? 0 : ''),
  'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
  'OS-FLV-DISABLED:disabled': false,
  'os-flavor-access:is_public': f.isPublic,
  rxtx_factor: f.rxtxFactor,
  links: links(base, f.id),
  ...(v.atLeast('2.55') ? { description: f.description } : {}),
  ...(v.atLeast('2.61') && extraSpecs ? { extra_specs: extraSpecs } : {}),
});

/** Flavors with their extra specs when the request's version shows them and the caller may read them. */
async function views(request: FastifyRequest, store: Store, rows: Flavor[]) {
  const v = versionOf(request);
  const specs =
    v.atLeast('2.61') && allows('compute:flavor-extra-specs:index', authOf(request))
      ? await extraSpecsOfMany(
          store.db,
          rows.map((f) => f.id),
        )
      : undefined;
  return rows.map((f) => flavorView(request.publicUrl, f, v, specs?.get(f.id)));
}

// Nova takes counts as integers or strings of digits, and is_public as any of its boolean words.
const Count = (min: number) => Type.Union([Type.Integer({ minimum: min, maximum: 2 ** 31 - 1 }), Type.String({ pattern: '^[0-9]+$' })]);
const Bool = Type.Union([Type.Boolean(), Type.String()]);
const FlavorDescription = Type.Union([Type.String({ maxLength: 65535, pattern: '^[^\\x00-\\x1f\\x7f]*$' }), Type.Null()]);
const CreateBody = Type.Object({
  flavor: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }),
    // A string, a number or null (a generated UUID), as Nova takes it.
    id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }), Type.Number(), Type.Null()])),
    ram: Count(1),
    vcpus: Count(1),
    disk: Count(0),
    'OS-FLV-EXT-DATA:ephemeral': Type.Optional(Count(0)),
    swap: Type.Optional(Count(0)),
    rxtx_factor: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 3.4e38 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$' })])),
    'os-flavor-access:is_public': Type.Optional(Bool),
    description: Type.Optional(FlavorDescription),
  }),
});
const UpdateBody = Type.Object({ flavor: Type.Object({ description: FlavorDescription }, { additionalProperties: false }) });
// Each parameter may come more than once: the last counts, as in Nova.
const Many = Type.Array(Type.String());
const ListQuery = Type.Object({
  minRam: Type.Optional(Many),
  minDisk: Type.Optional(Many),
  is_public: Type.Optional(Many),
  sort_key: Type.Optional(Type.Array(Type.Union(FLAVOR_SORT_KEYS.map((k) => Type.Literal(k))))),
  sort_dir: Type.Optional(Type.Array(Type.Union([Type.Literal('asc'), Type.Literal('desc')]))),
  limit: Type.Optional(Many),
  marker: Type.Optional(Many),
});
type ListParams = { [k in 'minRam' | 'minDisk' | 'is_public' | 'limit' | 'marker']?: string[] } & { sort_key?: FlavorSortKey[]; sort_dir?: ('asc' | 'desc')[] };
const ById = Type.Object({ flavor_id: Type.String() });

const TRUE = ['true', 't', '1', 'yes', 'y', 'on'];
const FALSE = ['false', 'f', '0', 'no', 'n', 'off'];

/** `is_public` as Nova reads it: none/all for every flavor, else a boolean; public by default. */
function publicFilter(value: string | undefined): boolean | undefined {
  const v = (value ?? 'true').toLowerCase();
  if (v === 'none' || v === 'all') return undefined;
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw badRequest(`Invalid is_public filter [${value}]`);
}

function minimum(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${value}.`);
  return n;
}

export function flavorRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;

  for (const [path, detailed] of [
    ['/flavors', false],
    ['/flavors/detail', true],
  ] as const) {
    api.get(path, { config: { policy: 'compute:flavors:index' }, schema: { querystring: ListQuery } }, async (request) => {
      const q = request.query as ListParams;
      const page = pageOf({ limit: q.limit?.at(-1), marker: q.marker?.at(-1) });
      const filter: FlavorFilter = {
        isPublic: publicFilter(q.is_public?.at(-1)),
        minRam: minimum('minRam', q.minRam?.at(-1)),
        minDisk: minimum('minDisk', q.minDisk?.at(-1)),
        sortKey: q.sort_key?.at(-1) ?? 'flavorid',
        sortDir: q.sort_dir?.at(-1) ?? 'asc',
        ...page,
      };
      const rows = await listFlavors(db, authOf(request), filter);
      const base = request.publicUrl;
      const v = versionOf(request);
      const next = nextLink(request, page, rows);
      return {
        flavors: detailed
          ? await views(request, store, rows)
          : rows.map((f) => ({ id: f.id, name: f.name, links: links(base, f.id), ...(v.atLeast('2.55') ? { description: f.description } : {}) })),
        ...(next ? { flavors_links: [{ rel: 'next', href: next }] } : {}),
      };
    });
  }

  api.get('/flavors/:flavor_id', { config: { policy: 'compute:flavors:show' }, schema: { params: ById } }, async (request) => ({
    flavor: (await views(request, store, [await getFlavor(db, authOf(request), request.params.flavor_id)]))[0],
  }));

  api.post('/flavors', { config: { policy: 'compute:flavor-manage:create' }, schema: { body: CreateBody } }, async (request) => {
    const f = request.body.flavor;
    introducedIn(versionOf(request), 'flavor', f, { description: '2.55' });
    const isPublic = f['os-flavor-access:is_public'];
    if (typeof isPublic === 'string' && ![...TRUE, ...FALSE].includes(isPublic.toLowerCase())) {
      throw badRequest(`Invalid input for field/attribute os-flavor-access:is_public. Value: ${isPublic}. '${isPublic}' is not a boolean`);
    }
    const flavor = await store.tx((tx) =>
      createFlavor(tx, {
        id: f.id === undefined || f.id === null ? f.id : String(f.id),
        name: f.name.trim(),
        ram: Number(f.ram),
        vcpus: Number(f.vcpus),
        disk: Number(f.disk),
        ephemeral: Number(f['OS-FLV-EXT-DATA:ephemeral'] ?? 0),
        swap: Number(f.swap ?? 0),
        rxtxFactor: Number(f.rxtx_factor ?? 1),
        isPublic: typeof isPublic === 'string' ? TRUE.includes(isPublic.toLowerCase()) : (isPublic ?? true),
        description: f.description ?? null,
      }),
    );
    // A new flavor has no extra specs yet.
    return { flavor: flavorView(request.publicUrl, flavor, versionOf(request), {}) };
  });

  api.put('/flavors/:flavor_id', { config: { policy: 'compute:flavor-manage:update' }, schema: { params: ById, body: UpdateBody } }, async (request) => {
    servedFrom(request, '2.55');
    const flavor = await describeFlavor(db, authOf(request), request.params.flavor_id, request.body.flavor.description);
    return { flavor: (await views(request, store, [flavor]))[0] };
  });

  api.delete('/flavors/:flavor_id', { config: { policy: 'compute:flavor-manage:delete' }, schema: { params: ById } }, async (request, reply) => {
    await deleteFlavor(db, authOf(request), request.params.flavor_id);
    return reply.status(202).send();
  });
}
