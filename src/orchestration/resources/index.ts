import { CINDER } from './cinder.ts';
import { resourceGroup } from './group.ts';
import { HEAT } from './heat.ts';
import { NEUTRON } from './neutron.ts';
import { NOVA } from './nova.ts';
import { OCTAVIA } from './octavia.ts';
import type { ResourceType } from './types.ts';
import { WAIT } from './wait.ts';

export type { ResourceType, ResourceContext } from './types.ts';

/** Every resource type a template may use, by Heat's name. */
export const RESOURCE_TYPES: Record<string, ResourceType> = {
  ...NEUTRON,
  ...NOVA,
  ...CINDER,
  ...OCTAVIA,
  ...HEAT,
  ...WAIT,
  'OS::Heat::ResourceGroup': resourceGroup(() => RESOURCE_TYPES),
};
