// What a load balancer's HAProxy must serve, read from the store: every listener, pool, member
// and monitor of it that is not being deleted.

import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import type { LbSpec } from '../dataplane/driver.ts';
import type { LoadBalancerRow } from '../provisioning.ts';
import { healthMonitors, l7Policies, l7Rules, listeners, members, pools } from '../tables.ts';

export async function childrenOf(db: Db, lbId: string) {
  const [ls, ps, ms, hs, l7p, l7r] = await Promise.all([
    db.select().from(listeners).where(eq(listeners.loadBalancerId, lbId)),
    db.select().from(pools).where(eq(pools.loadBalancerId, lbId)),
    db.select().from(members).where(eq(members.loadBalancerId, lbId)),
    db.select().from(healthMonitors).where(eq(healthMonitors.loadBalancerId, lbId)),
    db.select().from(l7Policies).where(eq(l7Policies.loadBalancerId, lbId)),
    db.select().from(l7Rules).where(eq(l7Rules.loadBalancerId, lbId)),
  ]);
  return { listeners: ls, pools: ps, members: ms, monitors: hs, l7policies: l7p, l7rules: l7r };
}
export type Children = Awaited<ReturnType<typeof childrenOf>>;

const kept = <T extends { provisioningStatus: string }>(rows: T[]) => rows.filter((r) => r.provisioningStatus !== 'PENDING_DELETE');

export function configOf(lb: LoadBalancerRow, c: Children): LbSpec['config'] {
  const live = { listeners: kept(c.listeners), pools: kept(c.pools), members: kept(c.members), monitors: kept(c.monitors) };
  const rules = kept(c.l7rules).filter((r) => r.adminStateUp);
  // A policy without an enabled rule matches nothing: it is left out.
  const policies = kept(c.l7policies)
    .filter((p) => p.adminStateUp && rules.some((r) => r.l7PolicyId === p.id))
    .sort((a, b) => a.position - b.position)
    .map((p) => ({
      listenerId: p.listenerId,
      spec: {
        id: p.id,
        action: p.action,
        poolId: p.redirectPoolId ?? undefined,
        url: p.redirectUrl ?? undefined,
        prefix: p.redirectPrefix ?? undefined,
        code: p.redirectHttpCode ?? undefined,
        rules: rules
          .filter((r) => r.l7PolicyId === p.id)
          .map((r) => ({ type: r.type, compare: r.compareType, key: r.key ?? undefined, value: r.value, invert: r.invert })),
      },
    }));
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
      l7policies: policies.filter((p) => p.listenerId === l.id).map((p) => p.spec),
    })),
    pools: live.pools.map((p) => {
      const hm = live.monitors.find((h) => h.poolId === p.id);
      return {
        id: p.id,
        enabled: p.adminStateUp,
        algorithm: p.lbAlgorithm,
        persistence: p.sessionPersistence ?? undefined,
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
