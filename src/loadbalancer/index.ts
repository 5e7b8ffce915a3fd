import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Controller } from '../lib/reconcile/controller.ts';
import type { Store } from '../lib/store/db.ts';
import { startLbAgent } from './agent/agent.ts';
import { childRoutes } from './api/children.ts';
import { l7Routes } from './api/l7.ts';
import { quotaRoutes } from './api/quotas.ts';
import { loadBalancerRoutes } from './api/loadbalancers.ts';
import type { LbDataplane } from './dataplane/driver.ts';
import type { LoadBalancing } from './service.ts';
import './policy.ts';

export type { LoadBalancing } from './service.ts';
export { createFakeLbDataplane } from './dataplane/fake.ts';
export { createLinuxLbDataplane } from './dataplane/linux.ts';

export interface LoadBalancers extends LoadBalancing {
  agent: Controller;
  /** Stops the agent; the HAProxies keep serving, and are adopted at the next start. */
  close(): Promise<void>;
}

/** The load-balancer service of the all-in-one: its API's state and this host's agent. */
export async function startLoadBalancers(opts: { store: Store; dataplane: LbDataplane; host: string; log: Logger; pollMs?: number }): Promise<LoadBalancers> {
  const agent = await startLbAgent(opts);
  return { store: opts.store, host: opts.host, log: opts.log, agent, close: () => agent.stop() };
}

const v2 = (base: string) => ({ id: 'v2.0', status: 'CURRENT', updated: '2023-02-15T00:00:00Z', links: [{ rel: 'self', href: `${base}/load-balancer/v2.0/` }] });

/** Octavia's API v2, mounted under /load-balancer, at /v2.0 (where octaviaclient goes) and /v2. */
export function loadBalancerPlugin(svc: LoadBalancing) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'octavia');
    app.get('/', { config: { public: true } }, async (request) => ({ versions: [v2(request.publicUrl)] }));
    for (const prefix of ['/v2.0', '/v2']) {
      await app.register(
        async (api) => {
          loadBalancerRoutes(api, svc);
          childRoutes(api, svc);
          l7Routes(api, svc);
          quotaRoutes(api, svc);
        },
        { prefix },
      );
    }
  };
}
