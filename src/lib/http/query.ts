import { badRequest } from '../errors.ts';

/** A boolean query parameter as OpenStack services read them: true/false, 1/0, yes/no, any
 * case; a bare `?name` (empty value) counts as true. */
export function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === '' || v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw badRequest(`${name} must be a boolean, not ${value}`);
}
