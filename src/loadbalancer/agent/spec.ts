// What a load balancer's HAProxy must serve, read from the store: every listener, pool, member
// and monitor of it that is not being deleted.

import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import type { LbSpec } from '../dataplane/driver.ts';
import type { LoadBalancerRow } from '../provisioning.ts';
import { healthMonitors, listeners, members, pools } from '../tables.ts';

export async function childrenOf(db: Db, lbId: string) {
  const [ls, ps, ms, hs] = await Promise.all([
    db.select().from(listeners).where(eq(listeners.loadBalancerId, lbId)),
    db.select().from(pools).where(eq(pools.loadBalancerId, lbId)),
    db.select().from(members).where(eq(members.loadBalancerId, lbId)),
    db.select().from(healthMonitors).where(eq(healthMonitors.loadBalancerId, lbId)),
  ]);
  return { listeners: ls, pools: ps, members: ms, monitors: hs };
}
export type Children = Awaited<ReturnType<typeof childrenOf>>;

const kept = <T extends { provisioningStatus: string }>(rows: T[]) => rows.filter((r) => r.provisioningStatus !== 'PENDING_DELETE');

export function configOf(lb: LoadBalancerRow, c: Children): LbSpec['config'] {
  const live = { listeners: kept(c.listeners), pools: kept(c.pools), members: kept(c.members), monitors: kept(c.monitors) };
  return {
    vipAddress: lb.vipAddress,
    listeners: live.listeners.map((l) => ({
      id: l.id,
      protocol: l.protocol,
      port: l.protocolPort,
      enabled: l.adminStateUp && lb.adminStateUp,
      connectionLimit: l.connectionLimit,
      timeoutClientData: l.timeoutClientData,
      timeoutMemberConnect: l.timeoutMemberConnect,
      timeoutMemberData: l.timeoutMemberData,
      defaultPoolId: l.defaultPoolId ?? undefined,
    })),
    pools: live.pools.map((p) => {
      const hm = live.monitors.find((h) => h.poolId === p.id);
      return {
        id: p.id,
        enabled: p.adminStateUp,
        algorithm: p.lbAlgorithm,
        sourceIpPersistence: p.sessionPersistence?.type === 'SOURCE_IP',
        monitor: hm && {
          type: hm.type,
          delay: hm.delay,
          timeout: hm.timeout,
          rise: hm.maxRetries,
          fall: hm.maxRetriesDown,
          method: hm.httpMethod ?? undefined,
          path: hm.urlPath ?? undefined,
          codes: hm.expectedCodes ?? undefined,
          enabled: hm.adminStateUp,
        },
        members: live.members
          .filter((m) => m.poolId === p.id)
          .map((m) => ({
            id: m.id,
            address: m.address,
            port: m.protocolPort,
            weight: m.weight,
            backup: m.backup,
            enabled: m.adminStateUp,
            monitorAddress: m.monitorAddress ?? undefined,
            monitorPort: m.monitorPort ?? undefined,
          })),
      };
    }),
  };
}
