import { badRequest } from '../../lib/errors.ts';

/** An expiry as clients send it: ISO 8601, UTC when it names no zone (as Keystone reads it). */
export function parseExpiry(text: string | null | undefined): Date | null {
  if (!text) return null;
  const date = new Date(text.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  if (Number.isNaN(date.getTime())) throw badRequest(`expires_at is not a date: ${text}`);
  return date;
}

/** A stored time as Keystone's JSON encoder writes it: UTC, microseconds, no zone suffix
 * (application credentials' and passwords' expires_at). */
export const storedTime = (d: Date) => `${d.toISOString().slice(0, 23)}000`;

/** Keystone's isotime with sub-seconds: whole seconds, six zeros, and Z (trusts' expires_at). */
export const isoTime = (d: Date) => `${d.toISOString().slice(0, 19)}.000000Z`;
