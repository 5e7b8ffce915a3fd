import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { family, labelValue } from '../lib/prometheus.ts';
import type { Db } from '../lib/store/db.ts';
import { metrics, resources } from './tables.ts';

// The newest value of every metric of the live resources, in Prometheus' text exposition format:
// a scraper gets the same meters as the metric API, labelled by project, server, port, disk and
// volume.

/** Meters that count up: Prometheus counters, named with _total. */
const COUNTERS = /^(cpu|disk\.device\.(read|write)\.(bytes|requests)|network\.(incoming|outgoing)\.(bytes|packets)(\.drop)?)$/;

export async function exposition(db: Db): Promise<string> {
  const rows = await db
    .select({ name: metrics.name, unit: metrics.unit, value: metrics.lastValue, at: metrics.lastAt, resource: resources })
    .from(metrics)
    .innerJoin(resources, eq(resources.id, metrics.resourceId))
    .where(and(isNull(resources.endedAt), isNotNull(metrics.lastValue), isNotNull(metrics.name)));
  const families = new Map<string, { help: string; type: string; lines: string[] }>();
  for (const r of rows) {
    const counter = COUNTERS.test(r.name!);
    const name = `nubo_${r.name!.replace(/[^a-zA-Z0-9_]/g, '_')}${counter ? '_total' : ''}`;
    const a = r.resource.attributes as Record<string, string | undefined>;
    const labels: Record<string, string | null | undefined> = {
      project_id: r.resource.projectId,
      server_id: r.resource.type === 'instance' ? r.resource.originalResourceId : a.instance_id,
      port_id: a.port_id,
      volume_id: r.resource.type === 'volume' ? r.resource.originalResourceId : undefined,
      device: r.resource.type === 'instance_disk' ? a.name : r.resource.type === 'instance_network_interface' ? a.name : undefined,
      resource_id: r.resource.id,
    };
    const text = Object.entries(labels)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}="${labelValue(v!)}"`)
      .join(',');
    let f = families.get(name);
    if (!f) families.set(name, (f = { help: `${r.name} (${r.unit ?? ''}), as Ceilometer names it`, type: counter ? 'counter' : 'gauge', lines: [] }));
    f.lines.push(`${name}{${text}} ${r.value} ${r.at!.getTime()}`);
  }
  return [...families.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, f]) => family(name, f.help, f.type, f.lines))
    .join('');
}
