import { randomInt } from 'node:crypto';
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
};
