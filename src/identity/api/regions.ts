import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { createRegion, deleteRegion, getRegion, listRegions, updateRegion, type Region } from '../regions.ts';
import { listLinks, selfLink } from './views.ts';

export const regionView = (base: string, r: Region) => ({
  ...r.extra,
  id: r.id,
  description: r.description,
  parent_region_id: r.parentRegionId,
  links: selfLink(base, `regions/${r.id}`),
});

// Keystone's bounds; other fields are kept as given and shown back, as Keystone does.
const RegionId = Type.String({ minLength: 1, maxLength: 255 });
const Nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Fields = {
  description: Nullable(Type.String({ maxLength: 255 })),
  parent_region_id: Nullable(RegionId),
};
const CreateBody = Type.Object({ region: Type.Object({ id: Nullable(Type.String({ maxLength: 255 })), ...Fields }) });
const UpdateBody = Type.Object({ region: Type.Object({ id: Type.Optional(Type.String()), ...Fields }, { minProperties: 1 }) });
const Params = Type.Object({ region_id: RegionId });

/** Regions (Keystone v3): ids chosen by the caller or generated, a tree by parent_region_id. */
export function regionRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;
  const input = ({
    id: _,
    description,
    parent_region_id,
    links: __,
    ...extra
  }: {
    id?: string | null;
    description?: string | null;
    parent_region_id?: string | null;
    links?: unknown;
  }) => ({
    description,
    parentRegionId: parent_region_id,
    extra,
  });

  api.get(
    '/v3/regions',
    { config: { policy: 'identity:list_regions' }, schema: { querystring: Type.Object({ parent_region_id: Type.Optional(Type.String()) }) } },
    async (request) => ({
      regions: (await listRegions(db, { parentRegionId: request.query.parent_region_id })).map((r) => regionView(request.publicUrl, r)),
      links: listLinks(request.publicUrl, 'regions'),
    }),
  );
  api.get('/v3/regions/:region_id', { config: { policy: 'identity:get_region' }, schema: { params: Params } }, async (request) => ({
    region: regionView(request.publicUrl, await getRegion(db, request.params.region_id)),
  }));
  api.post('/v3/regions', { config: { policy: 'identity:create_region' }, schema: { body: CreateBody } }, async (request, reply) => {
    const r = request.body.region;
    const region = await identity.change((tx) => createRegion(tx, { id: r.id, ...input(r) }));
    return reply.status(201).send({ region: regionView(request.publicUrl, region) });
  });
  // Keystone's way to create a region with a chosen id.
  api.put('/v3/regions/:region_id', { config: { policy: 'identity:create_region' }, schema: { params: Params, body: CreateBody } }, async (request, reply) => {
    const r = request.body.region;
    if (r.id && r.id !== request.params.region_id) throw badRequest(`Conflicting region IDs specified: "${request.params.region_id}" != "${r.id}"`);
    const region = await identity.change((tx) => createRegion(tx, { id: request.params.region_id, ...input(r) }));
    return reply.status(201).send({ region: regionView(request.publicUrl, region) });
  });
  api.patch('/v3/regions/:region_id', { config: { policy: 'identity:update_region' }, schema: { params: Params, body: UpdateBody } }, async (request) => {
    const r = request.body.region;
    if (r.id !== undefined && r.id !== request.params.region_id) throw badRequest('Cannot change ID');
    const region = await identity.change((tx) => updateRegion(tx, request.params.region_id, input(r)));
    return { region: regionView(request.publicUrl, region) };
  });
  api.delete('/v3/regions/:region_id', { config: { policy: 'identity:delete_region' }, schema: { params: Params } }, async (request, reply) => {
    await identity.change((tx) => deleteRegion(tx, request.params.region_id));
    return reply.status(204).send();
  });
}
