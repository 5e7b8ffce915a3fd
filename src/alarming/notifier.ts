import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/log.ts';
import type { AlarmRow } from './alarms.ts';
import type { Verdict } from './evaluator.ts';

const TIMEOUT_MS = 5000;

/** The body Aodh's REST notifier posts to an alarm's action. */
export const actionBody = (a: AlarmRow, previous: string, v: Verdict) => ({
  alarm_id: a.id,
  alarm_name: a.name,
  severity: a.severity,
  previous,
  current: v.state,
  reason: v.reason,
  reason_data: v.reasonData,
});

/** The actions of the state an alarm entered. */
export function actionsFor(a: AlarmRow, state: string): string[] {
  if (state === 'alarm') return a.alarmActions;
  if (state === 'ok') return a.okActions;
  return a.insufficientDataActions;
}

/**
 * Calls each action once; a failure is logged (with the action's origin only: a URL may carry
 * credentials) and not retried, as Aodh's notifier does not retry either.
 */
export async function callActions(urls: string[], body: unknown, log: Logger): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      const target = new URL(url);
      if (target.protocol === 'log:') {
        log.info({ alarm: body }, 'alarm action');
        return;
      }
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-openstack-request-id': `req-${randomUUID()}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
          redirect: 'manual',
        });
        await res.body?.cancel();
        if (!res.ok) log.warn({ action: target.origin, status: res.status }, 'alarm action answered an error');
      } catch (err) {
        log.warn({ action: target.origin, err: (err as Error).message }, 'alarm action failed');
      }
    }),
  );
}
