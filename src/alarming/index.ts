import type { FastifyInstance } from 'fastify';
import { eq } from 'drizzle-orm';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Logger } from '../lib/log.ts';
import { startController, type Controller } from '../lib/reconcile/controller.ts';
import type { Store } from '../lib/store/db.ts';
import { ALARM_CHANNEL, recordEvaluation } from './alarms.ts';
import { alarmRoutes } from './api/alarms.ts';
import { evaluate } from './evaluator.ts';
import { actionBody, actionsFor, callActions } from './notifier.ts';
import { alarms } from './tables.ts';
import './policy.ts';

export interface Alarming {
  store: Store;
  evaluator: Controller;
  close(): Promise<void>;
}

/**
 * Aodh's evaluator as a reconcile loop keyed by alarm: each enabled alarm is evaluated every
 * intervalMs (and at once when it is created or changed); a verdict is written in one
 * transaction, and the actions of the state entered are called after it commits, on a
 * transition or, with repeat_actions, at every evaluation.
 */
export async function startAlarming(store: Store, opts: { intervalMs: number; log: Logger }): Promise<Alarming> {
  const log = opts.log.child({ component: 'alarm-evaluator' });
  const reconcile = async (id: string) => {
    const [a] = await store.db.select().from(alarms).where(eq(alarms.id, id));
    if (!a || !a.enabled) return;
    const verdict = await evaluate(store.db, a);
    const written = await store.tx((tx) => recordEvaluation(tx, a, verdict.state, verdict.reason));
    if (written && (written.changed || a.repeatActions)) {
      const urls = actionsFor(a, verdict.state);
      if (urls.length) await callActions(urls, actionBody(a, written.previous.state, verdict), log);
    }
    return { requeueAfter: opts.intervalMs };
  };
  const evaluator = await startController({
    name: 'alarm-evaluator',
    store,
    channel: ALARM_CHANNEL,
    listKeys: async () => (await store.db.select({ id: alarms.id }).from(alarms).where(eq(alarms.enabled, true))).map((a) => a.id),
    reconcile,
    concurrency: 2,
    log,
  });
  return { store, evaluator, close: () => evaluator.stop() };
}

const v2 = (base: string) => ({ id: 'v2', status: 'stable', links: [{ rel: 'self', href: `${base}/alarming/v2` }], 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.telemetry-v2+json' }] });

/** Aodh's API v2, mounted under /alarming. */
export function alarmingPlugin(a: Alarming) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'aodh');
    app.get('/', { config: { public: true } }, async (request) => ({ versions: { values: [v2(request.publicUrl)] } }));
    await app.register(async (api) => alarmRoutes(api, a.store), { prefix: '/v2' });
  };
}
