import { randomUUID } from 'node:crypto';
import { conflict } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/store/errors.ts';

/** Keystone's ids are UUIDs written as 32 hex digits. */
export const newId = () => randomUUID().replaceAll('-', '');

export const DEFAULT_DOMAIN_ID = 'default';

/** Runs a write that may clash with a unique name; the clash becomes Keystone's 409. */
export async function unique<T>(write: PromiseLike<T>, name: string): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Duplicate entry found with name ${name}.`);
    throw err;
  }
}
