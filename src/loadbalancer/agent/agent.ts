// The load-balancer agent of one host: makes each of its load balancers' namespace and HAProxy
// match the records, settles their provisioning status, and polls HAProxy's health into their
// operating status. A HAProxy that died is started again at the next poll; one that outlived a
// restart of Nubo is adopted as it runs.

import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Logger } from '../../lib/log.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { startController, type Controller } from '../../lib/reconcile/controller.ts';
import { bindVip, memberLegs, openVip, releaseVip, vipDeviceChanged, vipWiring } from '../../network/for-loadbalancer.ts';
import type { LbDataplane } from '../dataplane/driver.ts';
import { FAILOVER, LB_CHANNEL, type LoadBalancerRow } from '../provisioning.ts';
import { healthMonitors, l7Policies, l7Rules, listeners, listenerStats, loadBalancers, members, pools, type Operating } from '../tables.ts';
import { healthOf, type Health } from './health.ts';
import { childrenOf, configOf, type Children } from './spec.ts';
import type { StatRow } from '../haproxy/stats.ts';

export interface LbAgentOptions {
  store: Store;
  dataplane: LbDataplane;
  host: string;
  /** How often HAProxy's health is read back (ms). */
  pollMs?: number;
  log: Logger;
}

const CHILD_TABLES = [listeners, pools, members, healthMonitors, l7Policies, l7Rules] as const;

export async function startLbAgent(opts: LbAgentOptions): Promise<Controller> {
  const { store, dataplane: dp, host } = opts;
  const { db } = store;
  const pollMs = opts.pollMs ?? 2000;
  // The change (updated_at) each load balancer's HAProxy was last made to serve by this process:
  // a poll with nothing changed and HAProxy alive only reads its health.
  const ensured = new Map<string, number>();
  // The counters each listener's frontend last reported to this process.
  const seen = new Map<string, Counters>();
  // Load balancers whose failover was asked: their next run makes namespace and HAProxy anew.
  const failover = new Set<string>();
  let controller: Controller | undefined;

  async function remove(lb: LoadBalancerRow): Promise<void> {
    await dp.remove(lb.id);
    ensured.delete(lb.id);
    await store.tx(async (tx) => {
      for (const t of CHILD_TABLES) await tx.delete(t).where(eq(t.loadBalancerId, lb.id));
      await tx.delete(listenerStats).where(eq(listenerStats.loadBalancerId, lb.id));
      await releaseVip(tx, lb.vipPortId, lb.id);
      await tx.delete(loadBalancers).where(eq(loadBalancers.id, lb.id));
    });
  }

  /** Removes what was PENDING_DELETE and sets the rest ACTIVE, unless the load balancer changed
   * again since it was read (that change's own run settles it). */
  async function settle(lb: LoadBalancerRow): Promise<void> {
    await store.tx(async (tx) => {
      const [now] = await tx.select({ updatedAt: loadBalancers.updatedAt }).from(loadBalancers).where(eq(loadBalancers.id, lb.id)).for('update');
      if (!now || now.updatedAt?.getTime() !== lb.updatedAt?.getTime()) return;
      const gone = await tx
        .select({ id: listeners.id })
        .from(listeners)
        .where(and(eq(listeners.loadBalancerId, lb.id), eq(listeners.provisioningStatus, 'PENDING_DELETE')));
      if (gone.length) await tx.delete(listenerStats).where(inArray(listenerStats.listenerId, gone.map((l) => l.id)));
      for (const t of CHILD_TABLES) {
        await tx.delete(t).where(and(eq(t.loadBalancerId, lb.id), eq(t.provisioningStatus, 'PENDING_DELETE')));
        await tx
          .update(t)
          .set({ provisioningStatus: 'ACTIVE' })
          .where(and(eq(t.loadBalancerId, lb.id), inArray(t.provisioningStatus, ['PENDING_CREATE', 'PENDING_UPDATE', 'ERROR'])));
      }
      await tx.update(loadBalancers).set({ provisioningStatus: 'ACTIVE' }).where(eq(loadBalancers.id, lb.id));
    });
  }

  async function reconcile(id: string) {
    // A failover is a key of its own so that the notification cannot be mistaken for a change; the
    // work is done by the load balancer's own key, which never runs twice at once.
    if (id.startsWith(FAILOVER)) {
      failover.add(id.slice(FAILOVER.length));
      controller?.add(id.slice(FAILOVER.length));
      return;
    }
    const rebuild = failover.delete(id);
    const [lb] = await db.select().from(loadBalancers).where(eq(loadBalancers.id, id));
    if (!lb) {
      ensured.delete(id);
      await dp.remove(id);
      return;
    }
    if (lb.host !== host) return;
    if (lb.provisioningStatus === 'PENDING_DELETE') return remove(lb);
    if (rebuild) {
      await dp.remove(id);
      ensured.delete(id);
      opts.log.info({ loadBalancer: id }, 'load balancer failover: its namespace and HAProxy are made anew');
    }
    let c = await childrenOf(db, id);
    let rows = await dp.stats(id);
    const stamp = lb.updatedAt?.getTime() ?? 0;
    if (!rows || ensured.get(id) !== stamp || lb.provisioningStatus !== 'ACTIVE') {
      const wiring = await vipWiring(db, lb.vipPortId);
      if (!wiring) {
        await db.update(loadBalancers).set({ provisioningStatus: 'ERROR', operatingStatus: 'ERROR' }).where(eq(loadBalancers.id, id));
        opts.log.error({ loadBalancer: id, port: lb.vipPortId }, 'load balancer: its VIP port is gone');
        return;
      }
      // What the serving process counted up to now, before a reload replaces it.
      if (rows) await writeCounters(db, lb.id, c, rows, seen);
      try {
        // Members on subnets other than the VIP's are reached through a leg on each.
        const away = c.members.filter((m) => m.provisioningStatus !== 'PENDING_DELETE' && m.subnetId && m.subnetId !== lb.vipSubnetId).map((m) => m.subnetId!);
        const legs = await store.tx((tx) => memberLegs(tx, { loadBalancerId: id, projectId: lb.projectId, vipPortId: lb.vipPortId, subnetIds: [...new Set(away)] }));
        const { unplugged, started } = await dp.ensure({ id, vip: { portId: lb.vipPortId, ...wiring }, legs, config: configOf(lb, c) });
        if (started) for (const l of c.listeners) seen.set(l.id, { bin: 0, bout: 0, stot: 0, ereq: 0 });
        await store.tx(async (tx) => {
          for (const port of [lb.vipPortId, ...legs.map((l) => l.portId)]) await bindVip(tx, port, host);
          for (const port of unplugged) await vipDeviceChanged(tx, port);
          // The VIP lets in what the listeners serve, once HAProxy serves it.
          const serving = c.listeners.filter((l) => l.provisioningStatus !== 'PENDING_DELETE');
          await openVip(tx, lb.vipPortId, lb.id, serving.map((l) => ({ port: l.protocolPort, cidrs: l.allowedCidrs })));
        });
      } catch (err) {
        ensured.delete(id);
        if (lb.provisioningStatus.startsWith('PENDING_')) await db.update(loadBalancers).set({ provisioningStatus: 'ERROR' }).where(eq(loadBalancers.id, id));
        throw err;
      }
      ensured.set(id, stamp);
      if (lb.provisioningStatus !== 'ACTIVE') {
        await settle(lb);
        c = await childrenOf(db, id);
      }
      rows = await dp.stats(id);
    }
    await writeHealth(db, lb, c, healthOf(lb.adminStateUp, c, rows));
    await writeCounters(db, lb.id, c, rows, seen);
    return { requeueAfter: pollMs };
  }

  controller = await startController({
    name: 'loadbalancer-agent',
    store,
    channel: LB_CHANNEL,
    log: opts.log,
    async listKeys() {
      const [mine, actual] = await Promise.all([db.select({ id: loadBalancers.id }).from(loadBalancers).where(eq(loadBalancers.host, host)), dp.inventory()]);
      return new Set([...mine.map((r) => r.id), ...actual]);
    },
    reconcile,
  });
  return controller;
}

/** Writes each record's operating status where it changed. */
async function writeHealth(db: Db, lb: LoadBalancerRow, c: Children, h: Health): Promise<void> {
  const set = async (t: (typeof CHILD_TABLES)[number] | typeof loadBalancers, have: { id: string; operatingStatus: Operating }[], want: Map<string, Operating>) => {
    for (const r of have) {
      const s = want.get(r.id);
      if (s && s !== r.operatingStatus) await db.update(t).set({ operatingStatus: s }).where(eq(t.id, r.id));
    }
  };
  await set(members, c.members, h.members);
  await set(pools, c.pools, h.pools);
  await set(listeners, c.listeners, h.listeners);
  // A monitor is ONLINE while it checks, an L7 policy or rule while HAProxy applies it.
  const serving = (rows: { id: string; adminStateUp: boolean }[]) => new Map(rows.map((r) => [r.id, r.adminStateUp && h.loadBalancer !== 'ERROR' ? 'ONLINE' : 'OFFLINE'] as const));
  await set(healthMonitors, c.monitors, serving(c.monitors));
  await set(l7Policies, c.l7policies, serving(c.l7policies));
  await set(l7Rules, c.l7rules, serving(c.l7rules));
  await set(loadBalancers, [lb], new Map([[lb.id, h.loadBalancer]]));
}

type Counters = { bin: number; bout: number; stot: number; ereq: number };

/**
 * Adds what each listener's frontend counted since the last poll to its stored totals: HAProxy's
 * counters start again at zero in the process a reload or restart makes, Octavia's do not. The
 * agent reads the old process's counts before it replaces it and counts the new one from zero; a
 * counter below the last one seen still means a process started behind the agent's back, whose
 * counts are all new. The first poll of this Nubo only takes note (what the previous one stored
 * counts up to its last poll).
 */
async function writeCounters(db: Db, lbId: string, c: Children, rows: StatRow[] | undefined, seen: Map<string, Counters>): Promise<void> {
  for (const l of c.listeners) {
    const f = rows?.find((r) => r.pxname === l.id && r.svname === 'FRONTEND');
    if (!f) continue;
    const last = seen.get(l.id);
    seen.set(l.id, { bin: f.bin, bout: f.bout, stot: f.stot, ereq: f.ereq });
    const restarted = last !== undefined && f.stot < last.stot;
    const delta = (k: keyof Counters) => (last === undefined ? 0 : restarted ? f[k] : Math.max(0, f[k] - last[k]));
    await db
      .insert(listenerStats)
      .values({ listenerId: l.id, loadBalancerId: lbId, bytesIn: f.bin, bytesOut: f.bout, activeConnections: f.scur, totalConnections: f.stot, requestErrors: f.ereq })
      .onConflictDoUpdate({
        target: listenerStats.listenerId,
        set: {
          bytesIn: sql`${listenerStats.bytesIn} + ${delta('bin')}`,
          bytesOut: sql`${listenerStats.bytesOut} + ${delta('bout')}`,
          totalConnections: sql`${listenerStats.totalConnections} + ${delta('stot')}`,
          requestErrors: sql`${listenerStats.requestErrors} + ${delta('ereq')}`,
          activeConnections: f.scur,
        },
      });
  }
}
