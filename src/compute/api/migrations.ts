import type { FastifyInstance } from 'fastify';

/** /os-migrations: Nubo moves no server between hosts yet, so the list is empty at every microversion. */
export function migrationRoutes(app: FastifyInstance): void {
  app.get('/os-migrations', { config: { policy: 'compute:os-migrations:index' } }, async () => ({ migrations: [] }));
}
