import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { accessOf, deleteExtraSpec, extraSpecsOf, getFlavor, grantAccess, revokeAccess, setExtraSpecs } from '../flavors.ts';

/** Nova's extra spec keys: letters, digits and `_ - . : space`. */
const KEY = /^[\w.:\- ]{1,255}$/;
const Specs = Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Boolean()]));
const Flavor = Type.Object({ flavor_id: Type.String() });
const FlavorKey = Type.Object({ flavor_id: Type.String(), key: Type.String() });
const ProjectRef = Type.Object({ tenant: Type.String({ minLength: 1, maxLength: 255 }) });
const AccessAction = Type.Union([
  Type.Object({ addTenantAccess: ProjectRef }, { additionalProperties: false }),
  Type.Object({ removeTenantAccess: ProjectRef }, { additionalProperties: false }),
]);

/** Extra specs as key → string; Nova accepts numbers and booleans and stores their text. */
function specsOf(body: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (!KEY.test(k)) throw badRequest(`Invalid input for field/attribute extra_specs. Value: ${k}`);
    out[k] = String(v);
  }
  return out;
}

/** Extra specs (/flavors/{id}/os-extra_specs) and the access list of private flavors. */
export function flavorExtraRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const read = { policy: 'compute:flavor-extra-specs:index' };
  const write = { policy: 'compute:flavor-extra-specs:update' };

  api.get('/flavors/:flavor_id/os-extra_specs', { config: read, schema: { params: Flavor } }, async (request) => {
    const flavor = await getFlavor(db, authOf(request), request.params.flavor_id);
    return { extra_specs: await extraSpecsOf(db, flavor.id) };
  });

  api.get('/flavors/:flavor_id/os-extra_specs/:key', { config: read, schema: { params: FlavorKey } }, async (request) => {
    const { flavor_id, key } = request.params;
    const flavor = await getFlavor(db, authOf(request), flavor_id);
    const specs = await extraSpecsOf(db, flavor.id);
    if (!Object.hasOwn(specs, key)) throw notFound(`Flavor ${flavor_id} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });

  api.post('/flavors/:flavor_id/os-extra_specs', { config: write, schema: { params: Flavor, body: Type.Object({ extra_specs: Specs }) } }, async (request) => {
    const flavor = await getFlavor(db, authOf(request), request.params.flavor_id);
    const specs = specsOf(request.body.extra_specs);
    await store.tx((tx) => setExtraSpecs(tx, flavor.id, specs));
    return { extra_specs: specs };
  });

  api.put('/flavors/:flavor_id/os-extra_specs/:key', { config: write, schema: { params: FlavorKey, body: Specs } }, async (request) => {
    const { flavor_id, key } = request.params;
    const flavor = await getFlavor(db, authOf(request), flavor_id);
    const specs = specsOf(request.body);
    const keys = Object.keys(specs);
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== key) throw badRequest('Request body and URI mismatch');
    await store.tx((tx) => setExtraSpecs(tx, flavor.id, specs));
    return specs;
  });

  api.delete('/flavors/:flavor_id/os-extra_specs/:key', { config: write, schema: { params: FlavorKey } }, async (request, reply) => {
    const flavor = await getFlavor(db, authOf(request), request.params.flavor_id);
    await deleteExtraSpec(db, flavor.id, request.params.key);
    return reply.status(200).send();
  });

  const accessView = (flavorId: string, projects: string[]) => ({ flavor_access: projects.map((tenant_id) => ({ flavor_id: flavorId, tenant_id })) });

  api.get('/flavors/:flavor_id/os-flavor-access', { config: { policy: 'compute:flavor-access' }, schema: { params: Flavor } }, async (request) => {
    const flavor = await getFlavor(db, authOf(request), request.params.flavor_id);
    return accessView(flavor.id, await accessOf(db, flavor));
  });

  api.post('/flavors/:flavor_id/action', { config: { policy: 'compute:flavor-access' }, schema: { params: Flavor, body: AccessAction } }, async (request) => {
    const flavor = await getFlavor(db, authOf(request), request.params.flavor_id);
    const body = request.body;
    await store.tx(async (tx) => {
      if ('addTenantAccess' in body) await grantAccess(tx, flavor, body.addTenantAccess.tenant);
      else await revokeAccess(tx, flavor, body.removeTenantAccess.tenant);
    });
    return accessView(flavor.id, await accessOf(db, flavor));
  });
}
