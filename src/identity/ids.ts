import { randomUUID } from 'node:crypto';

/** Keystone's ids are UUIDs written as 32 hex digits. */
export const newId = () => randomUUID().replaceAll('-', '');

export const DEFAULT_DOMAIN_ID = 'default';

/** A unique-constraint violation, as PostgreSQL reports it (PGlite and node-postgres alike). */
export const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' || (err as { cause?: { code?: string } })?.cause?.code === '23505';
