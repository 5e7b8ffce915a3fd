import type { FastifyInstance } from 'fastify';
import type { VirtDriver } from '../compute/virt/driver.ts';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { startCollector, type Collector } from './agent/collector.ts';
import { aggregateRoutes } from './api/aggregates.ts';
import { archivePolicyRoutes } from './api/archive-policies.ts';
import { metricRoutes } from './api/metrics.ts';
import { resourceRoutes } from './api/resources.ts';
import { ensureBuiltinPolicies } from './policies.ts';
import { healthExposition } from './health.ts';
import { exposition } from './prometheus.ts';
import './policy.ts';

export interface Telemetry {
  store: Store;
  /** Where something is metered: its collector. */
  collector?: Collector;
  close(): Promise<void>;
}

/** The built-in archive policies, and the collector of what this process meters (its host's
 * guests and routers, the cloud's images and volumes), polling every intervalMs. */
export async function startTelemetry(
  store: Store,
  opts: { log: Logger; collect?: { host: string; intervalMs: number; driver?: VirtDriver; routerPrefix?: string; catalog?: boolean } },
): Promise<Telemetry> {
  await ensureBuiltinPolicies(store.db);
  const collector = opts.collect && startCollector({ store, log: opts.log, ...opts.collect });
  return { store, collector, close: async () => collector?.close() };
}

const v1 = (base: string) => ({ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/metric/v1/` }] });

/** Gnocchi's API v1, mounted under /metric. */
export function telemetryPlugin(t: Telemetry) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'gnocchi');
    app.get('/', { config: { public: true } }, async (request) => ({ versions: [v1(request.publicUrl)] }));
    await app.register(
      async (api) => {
        api.get('/', { config: { public: true } }, async (request) => ({ version: v1(request.publicUrl) }));
        archivePolicyRoutes(api, t.store);
        metricRoutes(api, t.store);
        resourceRoutes(api, t.store);
        aggregateRoutes(api, t.store);
      },
      { prefix: '/v1' },
    );
  };
}

/** GET /metrics at the root of the API port, to an admin: the meters for Prometheus, then Nubo's
 * own health (heartbeats, reconcile queues, the API's answer times). */
export function prometheusPlugin(t: Telemetry) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { config: { policy: 'telemetry:prometheus' } }, async (_request, reply) => {
      const [meters, health] = await Promise.all([exposition(t.store.db), healthExposition(t.store, app.latency)]);
      return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(meters + health);
    });
  };
}
