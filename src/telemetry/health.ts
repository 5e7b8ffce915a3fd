import { services } from '../compute/tables.ts';
import type { RouteLatency } from '../lib/http/latency.ts';
import { family, labelValue } from '../lib/prometheus.ts';
import { queueDepths } from '../lib/reconcile/depths.ts';
import type { Store } from '../lib/store/db.ts';
import { agents } from '../network/tables.ts';

// Nubo's own health for Prometheus: each service's and agent's last heartbeat as the store holds
// it (whatever host it runs on), the work queues of the reconcilers in this process, and the API's
// answer times per route.

export async function healthExposition(store: Store, latency?: RouteLatency): Promise<string> {
  const [computeServices, networkAgents] = await Promise.all([
    store.db.select({ binary: services.binary, host: services.host, at: services.heartbeatAt }).from(services),
    // One binary serves every kind of network agent of a host: the kind tells them apart.
    store.db.select({ binary: agents.binary, host: agents.host, agentType: agents.agentType, at: agents.heartbeatAt }).from(agents),
  ]);
  const beats = [...computeServices.map((s) => ({ ...s, agentType: undefined })), ...networkAgents]
    .map((s) => ({ labels: `binary="${labelValue(s.binary)}",host="${labelValue(s.host)}"${s.agentType ? `,agent_type="${labelValue(s.agentType)}"` : ''}`, at: s.at }))
    .sort((a, b) => a.labels.localeCompare(b.labels))
    .map((s) => `nubo_service_heartbeat_timestamp_seconds{${s.labels}} ${s.at.getTime() / 1000}`);
  const queues = queueDepths(store).flatMap(({ name, depth }) =>
    (['queued', 'running', 'waiting'] as const).map((state) => `nubo_reconcile_queue_keys{controller="${labelValue(name)}",state="${state}"} ${depth[state]}`),
  );
  return (
    family('nubo_service_heartbeat_timestamp_seconds', 'When each service or agent last reported, in seconds since the epoch.', 'gauge', beats) +
    family('nubo_reconcile_queue_keys', 'Keys of each reconciler of this process: queued, running, or waiting to settle or retry.', 'gauge', queues) +
    (latency?.exposition() ?? '')
  );
}
