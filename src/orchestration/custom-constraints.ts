import { badRequest } from '../lib/errors.ts';
import { flavorId, imageId } from './resources/nova.ts';
import { lookup } from './resources/types.ts';
import { ServiceError, type Services } from './services.ts';
import type { Template } from './template.ts';

// Heat's custom constraints on parameters: the value must name something the user can use in
// another service (a flavor, an image, a network…), checked with the user's token before the
// stack is made or changed, so that a typo fails at once with the parameter's name.

const neutron = (collection: string, kind: string) => (api: Services, v: string) => lookup(api, 'network', `/v2.0/${collection}`, collection, v, kind);

/** A check that the service answers GET `path` + the value (a key pair, a volume by id). */
const gettable = (type: string, path: string, kind: string) => async (api: Services, v: string) => {
  if (!(await api.callOr404(type, 'GET', `${path}${encodeURIComponent(v)}`))) throw new ServiceError('NotFound', `The ${kind} (${v}) could not be found.`, 404);
};

const CHECKS: Record<string, (api: Services, value: string) => Promise<unknown>> = {
  'nova.flavor': flavorId,
  'glance.image': imageId,
  'nova.keypair': gettable('compute', '/os-keypairs/', 'Key'),
  'neutron.network': neutron('networks', 'network'),
  'neutron.subnet': neutron('subnets', 'subnet'),
  'neutron.port': neutron('ports', 'port'),
  'neutron.router': neutron('routers', 'router'),
  'neutron.security_group': neutron('security_groups', 'security group'),
  'cinder.volume': gettable('block-storage', '/volumes/', 'Volume'),
};

/** The custom constraints a template's parameters name, all known (checked at validate time). */
export function checkConstraintNames(t: Template): void {
  for (const [name, p] of Object.entries(t.parameters))
    for (const c of p.constraints ?? [])
      if (c.custom_constraint !== undefined && !CHECKS[String(c.custom_constraint)])
        throw badRequest(`Parameter '${name}' is invalid: no custom constraint ${String(c.custom_constraint)} (known: ${Object.keys(CHECKS).join(', ')})`, 'StackValidationFailed');
}

/** Checks each parameter value against its custom constraints, as the user sees the services. */
export async function checkCustomConstraints(api: Services, t: Template, values: Record<string, unknown>): Promise<void> {
  checkConstraintNames(t);
  for (const [name, p] of Object.entries(t.parameters)) {
    for (const c of p.constraints ?? []) {
      if (c.custom_constraint === undefined || values[name] === undefined || values[name] === '') continue;
      const check = CHECKS[String(c.custom_constraint)]!;
      for (const v of [values[name]].flat()) {
        try {
          await check(api, String(v));
        } catch (err) {
          // Not found, or more than one of that name: the user's value is what is wrong.
          if (!(err instanceof ServiceError) || (err.status !== 404 && err.status !== 409)) throw err;
          throw badRequest(`Parameter '${name}' is invalid: ${c.description ?? `Error validating value '${String(v)}': ${err.message}`}`, 'StackValidationFailed');
        }
      }
    }
  }
}
