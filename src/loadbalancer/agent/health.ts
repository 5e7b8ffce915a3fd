// Operating status as Octavia derives it, from what HAProxy reports on its stats socket.

import type { StatRow } from '../haproxy/stats.ts';
import type { Operating } from '../tables.ts';
import type { Children } from './spec.ts';

/** A server's HAProxy status as a member's operating status. "UP 1/3" is up and going down;
 * "DOWN 1/2" is down and coming up. */
export function memberStatus(status: string | undefined): Operating {
  if (!status) return 'OFFLINE';
  if (status.startsWith('UP')) return 'ONLINE';
  if (status.startsWith('DOWN')) return 'ERROR';
  if (status === 'no check') return 'NO_MONITOR';
  if (status === 'NOLB' || status === 'DRAIN') return 'DRAINING';
  return 'OFFLINE';
}

/** A pool's status from its members': ERROR when none is up of some that are checked, DEGRADED when some are down. */
export function poolStatus(statuses: Operating[], enabled: boolean): Operating {
  if (!enabled) return 'OFFLINE';
  const down = statuses.filter((s) => s === 'ERROR').length;
  if (!down) return 'ONLINE';
  return down === statuses.filter((s) => s !== 'OFFLINE').length ? 'ERROR' : 'DEGRADED';
}

export interface Health {
  loadBalancer: Operating;
  listeners: Map<string, Operating>;
  pools: Map<string, Operating>;
  members: Map<string, Operating>;
}

/** Every record's operating status; rows undefined: HAProxy does not run. */
export function healthOf(lbEnabled: boolean, c: Children, rows: StatRow[] | undefined): Health {
  const members = new Map<string, Operating>();
  const pools = new Map<string, Operating>();
  const listeners = new Map<string, Operating>();
  for (const m of c.members) {
    const row = rows?.find((r) => r.svname === m.id && r.pxname.startsWith(`${m.poolId}:`));
    members.set(m.id, !m.adminStateUp ? 'OFFLINE' : rows ? memberStatus(row?.status) : 'OFFLINE');
  }
  for (const p of c.pools) {
    pools.set(p.id, rows ? poolStatus(c.members.filter((m) => m.poolId === p.id).map((m) => members.get(m.id)!), p.adminStateUp) : 'OFFLINE');
  }
  for (const l of c.listeners) {
    const open = rows?.some((r) => r.pxname === l.id && r.svname === 'FRONTEND' && r.status === 'OPEN');
    const pool = l.defaultPoolId ? pools.get(l.defaultPoolId) : undefined;
    listeners.set(l.id, !open ? 'OFFLINE' : pool === 'ERROR' ? 'ERROR' : pool === 'DEGRADED' ? 'DEGRADED' : 'ONLINE');
  }
  const states = [...listeners.values()];
  const loadBalancer: Operating = !lbEnabled
    ? 'OFFLINE'
    : !rows
      ? 'ERROR'
      : states.some((s) => s === 'ERROR' || s === 'DEGRADED')
        ? 'DEGRADED'
        : 'ONLINE';
  return { loadBalancer, listeners, pools, members };
}
