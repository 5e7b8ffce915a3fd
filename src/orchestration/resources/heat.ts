import { randomInt, randomUUID } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { ServiceError } from '../services.ts';
import { physicalName, type ResourceType } from './types.ts';

const CLASSES: Record<string, string> = {
  lettersdigits: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdef',
  octdigits: '01234567',
};

/** Resources the engine makes itself, with no other service involved. */
export const HEAT: Record<string, ResourceType> = {
  // A secret generated once and kept with the stack (a password for a server's user_data…).
  'OS::Heat::RandomString': {
    properties: ['length', 'character_classes', 'salt'],
    updatable: [],
    attributes: ['value'],
    async create(ctx, p) {
      const length = p.length === undefined ? 32 : Number(p.length);
      if (!Number.isInteger(length) || length < 1 || length > 512)
        throw new ServiceError('StackValidationFailed', `length: ${String(p.length)} is not between 1 and 512`, 400);
      const classes = (p.character_classes as { class?: string }[] | undefined)?.map((c) => c.class ?? 'lettersdigits') ?? ['lettersdigits'];
      const unknown = classes.find((c) => !CLASSES[c]);
      if (unknown) throw new ServiceError('StackValidationFailed', `character_classes: "${unknown}" is not one of ${Object.keys(CLASSES).join(', ')}`, 400);
      const pool = [...new Set(classes.map((c) => CLASSES[c]!).join(''))].join('');
      const value = Array.from({ length }, () => pool[randomInt(pool.length)]).join('');
      return { id: physicalName(ctx), data: { value } };
    },
    async delete() {
      // Nothing outside the stack to remove.
    },
  },
  // A configuration for a server: get_resource of it as a server's user_data gives the server its content.
  'OS::Heat::SoftwareConfig': {
    properties: ['group', 'config', 'inputs', 'outputs', 'options'],
    attributes: ['config'],
    async create(_ctx, p) {
      return { id: randomUUID(), data: { config: p.config === undefined || p.config === null ? '' : String(p.config), group: p.group ?? 'Heat::Ungrouped' } };
    },
    async delete() {
      // Kept with the stack only.
    },
  },
  // cloud-init's #cloud-config, from a map.
  'OS::Heat::CloudConfig': {
    properties: ['cloud_config'],
    attributes: ['config'],
    async create(_ctx, p) {
      return { id: randomUUID(), data: { config: `#cloud-config\n${toYaml(p.cloud_config ?? {})}`, group: 'Heat::Ungrouped' } };
    },
    async delete() {
      // Kept with the stack only.
    },
  },
};
