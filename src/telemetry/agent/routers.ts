// Traffic through each router hosted here, counted in its namespace by a table of nftables
// counters that telemetry keeps apart from the router's own NAT table: on the forward hook, what
// crosses the gateway leg (the router's outside traffic) and, per floating IP, what reaches its
// fixed IP from the gateway (after DNAT) and what leaves from it through the gateway (before
// SNAT). Only the counting table is written; when a router's floating IPs change it is rewritten
// in one `nft -f` with each counter's values carried over, so that counters never go back.

import { readdir } from 'node:fs/promises';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { run } from '../../lib/host/run.ts';
import type { Logger } from '../../lib/log.ts';
import type { Db } from '../../lib/store/db.ts';
import { gatewayLeg, namespaces } from '../../network/dataplane/linux/names.ts';
import { floatingIps, ports, routers } from '../../network/tables.ts';
import type { Sample } from './meter-store.ts';

export const METER_TABLE = 'nubo-meter';

interface Counter {
  /** The rule's comment, which names what it counts and how: it is the rule's identity. */
  key: string;
  match: string;
}

interface Counted {
  packets: number;
  bytes: number;
}

const q = JSON.stringify;

/** The counting rules of one router: its gateway both ways, then each floating IP both ways. */
export function counterRules(dev: string, fips: { id: string; fixed: string }[]): Counter[] {
  return [
    { key: `router:in:${dev}`, match: `iifname ${q(dev)}` },
    { key: `router:out:${dev}`, match: `oifname ${q(dev)}` },
    ...fips.flatMap((f) => [
      { key: `fip:${f.id}:in:${f.fixed}:${dev}`, match: `iifname ${q(dev)} ip daddr ${f.fixed}` },
      { key: `fip:${f.id}:out:${f.fixed}:${dev}`, match: `oifname ${q(dev)} ip saddr ${f.fixed}` },
    ]),
  ];
}

/** The table as one nft transaction that replaces it, each counter starting from what it had. */
export function meterRuleset(rules: Counter[], had: Map<string, Counted>): string {
  const lines = rules.map((r) => {
    const c = had.get(r.key) ?? { packets: 0, bytes: 0 };
    return `    ${r.match} counter packets ${c.packets} bytes ${c.bytes} comment ${q(r.key)}`;
  });
  return [
    `table ip ${METER_TABLE}`,
    `delete table ip ${METER_TABLE}`,
    `table ip ${METER_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...lines,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The counters the table holds, by comment; none when it is not there yet. */
export function parseCounters(json: string): Map<string, Counted> {
  const out = new Map<string, Counted>();
  for (const item of (JSON.parse(json) as { nftables?: Record<string, any>[] }).nftables ?? []) {
    const rule = item.rule;
    if (!rule?.comment) continue;
    const counter = (rule.expr as Record<string, any>[]).find((e) => e.counter)?.counter;
    if (counter) out.set(rule.comment, { packets: counter.packets, bytes: counter.bytes });
  }
  return out;
}

async function readCounters(ns: string, rules: Counter[], log: Logger): Promise<Map<string, Counted>> {
  const listed = await run(['nft', '-j', 'list', 'table', 'ip', METER_TABLE], { netns: ns, timeoutMs: 10_000 }).then(
    (r) => parseCounters(r.stdout),
    () => new Map<string, Counted>(),
  );
  const same = listed.size === rules.length && rules.every((r) => listed.has(r.key));
  if (!same) {
    await run(['nft', '-f', '-'], { netns: ns, input: meterRuleset(rules, listed), timeoutMs: 10_000, log });
  }
  return listed;
}

const traffic = (prefix: string, c: Counted | undefined, dir: 'incoming' | 'outgoing') => ({
  [`${prefix}.${dir}.bytes`]: { unit: 'B', cumulative: true, value: c?.bytes ?? 0 },
  [`${prefix}.${dir}.packets`]: { unit: 'packet', cumulative: true, value: c?.packets ?? 0 },
});

/** One poll of the routers whose namespaces are on this host (named after the data plane's prefix). */
export async function routerSamples(db: Db, prefix: string, host: string, log: Logger): Promise<Sample[]> {
  const start = namespaces(prefix).router('');
  const hosted = (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => n.startsWith(start)).map((n) => n.slice(start.length));
  if (hosted.length === 0) return [];
  const gateways = await db
    .select({ router: routers, port: ports.id })
    .from(routers)
    .innerJoin(ports, and(eq(ports.deviceId, routers.id), eq(ports.deviceOwner, 'network:router_gateway')))
    .where(inArray(routers.id, hosted));
  const fips = await db
    .select({ id: floatingIps.id, projectId: floatingIps.projectId, address: floatingIps.floatingIpAddress, fixed: floatingIps.fixedIpAddress, routerId: floatingIps.routerId })
    .from(floatingIps)
    .where(and(inArray(floatingIps.routerId, hosted), isNotNull(floatingIps.fixedIpAddress)));
  const samples: Sample[] = [];
  for (const { router, port } of gateways) {
    const dev = gatewayLeg(port).inside;
    const mine = fips.filter((f) => f.routerId === router.id).map((f) => ({ ...f, fixed: f.fixed! }));
    const rules = counterRules(dev, mine);
    let counters: Map<string, Counted>;
    try {
      counters = await readCounters(namespaces(prefix).router(router.id), rules, log);
    } catch (err) {
      log.warn({ router: router.id, err }, 'router counters unreadable');
      continue;
    }
    const [rin, rout] = rules;
    samples.push({
      original: router.id,
      type: 'network',
      projectId: router.projectId,
      attributes: { kind: 'router', name: router.name, host },
      // The gateway's incoming traffic is what the router receives from outside.
      meters: { ...traffic('router.gateway', counters.get(rin!.key), 'incoming'), ...traffic('router.gateway', counters.get(rout!.key), 'outgoing') },
    });
    for (const f of mine) {
      const [fin, fout] = counterRules(dev, [f]).slice(2);
      samples.push({
        original: f.id,
        type: 'network',
        projectId: f.projectId,
        attributes: { kind: 'floating_ip', floating_ip_address: f.address, router_id: router.id, host },
        meters: { ...traffic('ip.floating', counters.get(fin!.key), 'incoming'), ...traffic('ip.floating', counters.get(fout!.key), 'outgoing') },
      });
    }
  }
  return samples;
}
