import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { listHypervisors } from '../hypervisors.ts';
import { listServices } from '../services.ts';
import { servers } from '../tables.ts';
import { versionOf } from './microversion.ts';

const ByHost = Type.Object({ host: Type.String() });
const ListQuery = Type.Object({ zone: Type.Optional(Type.String()) });

/** Nova's os-hosts names a service by its topic. */
const TOPIC: Record<string, string> = { 'nova-compute': 'compute', 'nova-scheduler': 'scheduler', 'nova-conductor': 'conductor' };

/** os-hosts went at 2.43, for os-hypervisors and os-services. */
function removedAt243(request: FastifyRequest): void {
  if (versionOf(request).atLeast('2.43')) throw notFound('The resource could not be found.');
}

/** /os-hosts (before 2.43): each service's host (`openstack host list`), and a compute host's
 * resources in total, in use, and per project (`openstack host show`). */
export function hostRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const config = { policy: 'compute:os-hosts' };

  api.get('/os-hosts', { config, schema: { querystring: ListQuery } }, async (request) => {
    removedAt243(request);
    const rows = (await listServices(db)).filter((s) => request.query.zone === undefined || s.zone === request.query.zone);
    return { hosts: rows.map((s) => ({ host_name: s.host, service: TOPIC[s.binary] ?? s.binary, zone: s.zone })) };
  });

  api.get('/os-hosts/:host', { config, schema: { params: ByHost } }, async (request) => {
    removedAt243(request);
    const h = (await listHypervisors(db)).find((x) => x.host.name === request.params.host && x.service);
    if (!h) throw notFound(`Compute host ${request.params.host} could not be found.`);
    const perProject = await db
      .select({
        project: servers.projectId,
        cpu: sql<number>`sum((${servers.flavor}->>'vcpus')::int)::int`,
        memory_mb: sql<number>`sum((${servers.flavor}->>'ram')::int)::int`,
        disk_gb: sql<number>`sum((${servers.flavor}->>'disk')::int + (${servers.flavor}->>'ephemeral')::int)::int`,
      })
      .from(servers)
      .where(eq(servers.host, h.host.name))
      .groupBy(servers.projectId)
      .orderBy(servers.projectId);
    const resource = (project: string, cpu: number, memory_mb: number, disk_gb: number) => ({ resource: { host: h.host.name, project, cpu, memory_mb, disk_gb } });
    return {
      host: [
        resource('(total)', h.host.vcpus, h.host.memoryMiB, h.host.diskGiB),
        // Nova counts the host's reserved memory as used.
        resource('(used_now)', h.used.vcpus, h.used.ram + h.host.reservedMemoryMiB, h.used.disk),
        resource('(used_max)', h.used.vcpus, h.used.ram, h.used.disk),
        ...perProject.map((p) => resource(p.project, p.cpu, p.memory_mb, p.disk_gb)),
      ],
    };
  });
}
