import type { FastifyInstance } from 'fastify';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../lib/store/db.ts';
import { resourceRoutes } from './api/resources.ts';
import { signalRoutes } from './api/signals.ts';
import { stackRoutes } from './api/stacks.ts';
import { Engine } from './engine.ts';
import type { Orchestration } from './service.ts';
import './policy.ts';

export type { Orchestration } from './service.ts';

export interface Orchestrator extends Orchestration {
  close(): Promise<void>;
}

/** The engine, after marking FAILED the actions a stopped process left in progress (they need
 * the user's token, which is never stored). identityUrl: where resources find the catalog. */
export async function startOrchestration(store: Store, opts: { identityUrl: string; log: Logger }): Promise<Orchestrator> {
  const engine = new Engine(store, opts.identityUrl, opts.log);
  await engine.failInterrupted();
  return { store, engine, log: opts.log, close: () => engine.close() };
}

const v1 = (base: string) => ({ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/orchestration/v1/` }] });

/** Heat's API v1, mounted under /orchestration. */
export function orchestrationPlugin(svc: Orchestration) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'heat');
    app.get('/', { config: { public: true } }, async (request, reply) => reply.status(300).send({ versions: [v1(request.publicUrl)] }));
    await app.register(
      async (api) => {
        stackRoutes(api, svc);
        resourceRoutes(api, svc);
        signalRoutes(api, svc);
      },
      { prefix: '/v1' },
    );
  };
}
