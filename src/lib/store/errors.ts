/** A unique-constraint violation, as PostgreSQL reports it (PGlite and node-postgres alike). */
export const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' || (err as { cause?: { code?: string } })?.cause?.code === '23505';
