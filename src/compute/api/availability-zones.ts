import type { FastifyInstance } from 'fastify';
import type { Store } from '../../lib/store/db.ts';
import { INTERNAL_ZONE, isUp, listServices } from '../services.ts';
import { naive } from './naive-time.ts';

/** /os-availability-zone: the zones of the compute hosts (an aggregate's, or nova); /detail adds each zone's hosts and services, and the internal zone, for the admin. */
export function availabilityZoneRoutes(app: FastifyInstance, store: Store): void {
  const { db } = store;

  /** Each zone's services by host; a zone is available while one of its compute services is enabled. */
  async function zones() {
    const out = new Map<string, { available: boolean; hosts: Record<string, Record<string, { available: boolean; active: boolean; updated_at: string }>> }>();
    for (const s of await listServices(db)) {
      const z = out.get(s.zone) ?? { available: false, hosts: {} };
      out.set(s.zone, z);
      const up = isUp(s);
      if (s.binary === 'nova-compute' && !s.disabled && up) z.available = true;
      (z.hosts[s.host] ??= {})[s.binary] = { available: up, active: !s.disabled, updated_at: naive(s.updatedAt) };
    }
    // The internal zone holds the other services: it is available while they run.
    const internal = out.get(INTERNAL_ZONE);
    if (internal) internal.available = Object.values(internal.hosts).some((h) => Object.values(h).some((b) => b.available));
    return out;
  }

  app.get('/os-availability-zone', { config: { policy: 'compute:os-availability-zone:list' } }, async () => ({
    availabilityZoneInfo: [...(await zones())]
      .filter(([name]) => name !== INTERNAL_ZONE)
      .map(([zoneName, z]) => ({ zoneName, zoneState: { available: z.available }, hosts: null })),
  }));

  app.get('/os-availability-zone/detail', { config: { policy: 'compute:os-availability-zone:detail' } }, async () => ({
    availabilityZoneInfo: [...(await zones())].map(([zoneName, z]) => ({ zoneName, zoneState: { available: z.available }, hosts: z.hosts })),
  }));
}
