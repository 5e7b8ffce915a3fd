import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { MetricClient, type Measure, type MetricBody } from '../../client/metric.ts';
import { connect } from '../context.ts';
import { Formatted, listOptions, printList, printShow, showOptions } from '../output.ts';

// What python3-gnocchiclient prints: shows sorted by field, lists the columns it names plus, for
// resources, the rest of the first one's; some fields reformatted for tables only.

const RESOURCE_COLUMNS = ['id', 'type', 'project_id', 'user_id', 'original_resource_id', 'started_at', 'ended_at', 'revision_start', 'revision_end'];

const sorted = (body: MetricBody) => Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Python's isoformat of a timestamp, in the local time zone (gnocchiclient's default) or as
 * the server gave it (--utc). */
export function isoformat(ts: string, local: boolean): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const offset = local ? -d.getTimezoneOffset() : offsetOf(ts);
  const shifted = new Date(d.getTime() + offset * 60_000);
  const micros = /\.(\d+)/.exec(ts)?.[1]?.padEnd(6, '0').slice(0, 6);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${shifted.toISOString().slice(0, 19)}${micros && Number(micros) ? `.${micros}` : ''}${zone}`;
}

/** Minutes east of UTC that an ISO 8601 time names; a time without a zone is UTC. */
function offsetOf(ts: string): number {
  const m = /([+-])(\d{2}):?(\d{2})$/.exec(ts);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The columns of a resource listing: gnocchiclient's, then the first resource's others. */
function resourceColumns(resources: MetricBody[]): string[] {
  if (!resources.length) return RESOURCE_COLUMNS;
  const columns = [...RESOURCE_COLUMNS, ...Object.keys(resources[0]!).filter((k) => !RESOURCE_COLUMNS.includes(k))];
  return columns.includes('creator') ? columns.filter((c) => c !== 'created_by_user_id' && c !== 'created_by_project_id') : columns;
}

async function printResources(cmd: Command, resources: MetricBody[]): Promise<void> {
  // The metrics would make the listing too long, as gnocchiclient leaves them out.
  const rows = resources.map(({ metrics: _, ...rest }) => rest as MetricBody);
  const columns = resourceColumns(rows);
  await printList(
    cmd,
    columns,
    rows.map((r) => columns.map((c) => r[c])),
  );
}

/** A resource's metrics for tables: `name: id` per line, sorted. */
const metricLines = (metrics: unknown) =>
  new Formatted(
    metrics,
    Object.entries((metrics ?? {}) as Record<string, string>)
      .map(([name, id]) => `${name}: ${id}`)
      .sort()
      .join('\n'),
  );

/** An archive policy's definition and methods for tables, as format_archive_policy writes them. */
function policyFields(p: MetricBody): MetricBody {
  const definition = (p.definition ?? []) as Record<string, unknown>[];
  return {
    ...p,
    definition: new Formatted(
      definition,
      definition
        .map(
          (d) =>
            '- ' +
            Object.entries(d)
              .map(([k, v]) => `${k}: ${String(v)}`)
              .join(', '),
        )
        .join('\n'),
    ),
    aggregation_methods: new Formatted(p.aggregation_methods, ((p.aggregation_methods ?? []) as string[]).join(', ')),
  };
}

/** A metric as `metric show` shows it: its policy's name, its resource's fields moved up. */
function metricFields(m: MetricBody): MetricBody {
  const {
    archive_policy,
    created_by_user_id: _u,
    created_by_project_id: _p,
    resource,
    ...rest
  } = m as MetricBody & { archive_policy?: { name: string }; resource?: MetricBody | null };
  const out: MetricBody = { ...rest, 'archive_policy/name': archive_policy?.name };
  if (resource === null) out['resource/id'] = null;
  else if (resource) for (const [k, v] of Object.entries(resource)) out[`resource/${k}`] = v;
  return sorted(out);
}

interface ListFlags {
  details?: boolean;
  history?: boolean;
  limit?: string;
  marker?: string;
  sort?: string[];
  type: string;
}

const append = (v: string, all: string[] = []) => [...all, v];

function listFlags(cmd: Command, history = true): Command {
  cmd.option('--details', 'all the attributes of generic resources');
  if (history) cmd.option('--history', "the resources' history too");
  return cmd
    .option('--limit <LIMIT>', 'resources to return at most')
    .option('--marker <MARKER>', 'the last of the previous page: the ones after it')
    .option('--sort <SORT>', 'sort by an attribute (user_id:desc-nullslast; repeat for more)', append)
    .option('-t, --type <type>', 'resource type', 'generic');
}

/** Paging and sorting as gnocchiclient sends them; sort may repeat, so it goes in the path. */
function paging(o: ListFlags): { query: Record<string, string | undefined>; sort: string } {
  const query = { details: o.details ? 'true' : undefined, history: o.history ? 'true' : undefined, limit: o.limit, marker: o.marker };
  return { query, sort: (o.sort ?? []).map((s) => `sort=${encodeURIComponent(s)}`).join('&') };
}

async function metricClient(cmd: Command): Promise<MetricClient> {
  return new MetricClient((await connect(cmd)).session);
}

export function register(metric: Command): void {
  const resource = metric.command('resource').description('resources: what metrics measure (servers, ports, disks…)');
  listFlags(listOptions(resource.command('list').description('list resources'))).action(async (o: ListFlags, cmd: Command) => {
    const client = await metricClient(cmd);
    const { query, sort } = paging(o);
    await printResources(cmd, await client.resources(o.type, query, sort));
  });

  listFlags(listOptions(resource.command('search').description("search resources with Gnocchi's filter, e.g. host=h1 and not ended_at!=null")))
    .argument('[query]', 'a filter: attribute, operator and value, combined with and, or, not')
    .action(async (filter: string | undefined, o: ListFlags, cmd: Command) => {
      const client = await metricClient(cmd);
      const { query, sort } = paging(o);
      await printResources(cmd, await client.search(o.type, filter, query, sort));
    });

  showOptions(resource.command('show').description('show a resource').argument('<resource_id>', 'ID of the resource'))
    .option('-t, --type <type>', 'resource type', 'generic')
    .action(async (id: string, o: { type: string }, cmd: Command) => {
      const r = await (await metricClient(cmd)).resource(id, o.type);
      await printShow(cmd, sorted({ ...r, metrics: metricLines(r.metrics) }));
    });

  listOptions(metric.command('list').description('list metrics'))
    .option('--limit <LIMIT>', 'metrics to return at most')
    .option('--marker <MARKER>', 'the last of the previous page: the ones after it')
    .option('--sort <SORT>', 'sort by an attribute (name:asc; repeat for more)', append)
    .action(async (o: { limit?: string; marker?: string; sort?: string[] }, cmd: Command) => {
      const client = await metricClient(cmd);
      const metrics = await client.metrics({ limit: o.limit, marker: o.marker, sort: o.sort?.[0] });
      const columns = ['id', 'archive_policy/name', 'name', 'unit', 'resource_id'];
      await printList(
        cmd,
        columns,
        metrics.map((m) => [m.id, (m.archive_policy as { name?: string } | undefined)?.name, m.name, m.unit, m.resource_id]),
      );
    });

  showOptions(metric.command('show').description('show a metric').argument('<metric>', 'ID of the metric, or its name with --resource-id'))
    .option('-r, --resource-id <resource-id>', 'ID of the resource the metric is named on')
    .action(async (ref: string, o: { resourceId?: string }, cmd: Command) => {
      if (!o.resourceId && !/^[0-9a-f-]{32,36}$/i.test(ref)) throw new ClientError('resource_id is required to get a metric by name');
      await printShow(cmd, metricFields(await (await metricClient(cmd)).metric(ref, o.resourceId)));
    });

  const measures = metric.command('measures').description("a metric's measures");
  listOptions(measures.command('show').description("show a metric's measures").argument('<metric>', 'ID of the metric, or its name with --resource-id'))
    .option('-r, --resource-id <resource-id>', 'ID of the resource the metric is named on')
    .option('--aggregation <aggregation>', 'aggregation method: mean, max, rate:mean…')
    .option('--start <start>', 'beginning of the period')
    .option('--stop <stop>', 'end of the period')
    .option('--granularity <granularity>', 'granularity, in seconds')
    .option('--refresh', 'aggregate every measure received first')
    .option('--resample <granularity>', 'granularity to resample to, in seconds')
    .option('--utc', 'timestamps in UTC rather than the local time zone')
    .action(
      async (
        ref: string,
        o: {
          resourceId?: string;
          aggregation?: string;
          start?: string;
          stop?: string;
          granularity?: string;
          refresh?: boolean;
          resample?: string;
          utc?: boolean;
        },
        cmd: Command,
      ) => {
        const client = await metricClient(cmd);
        const rows = await client.measures(ref, o.resourceId, { ...o, start: o.start && localDate(o.start), stop: o.stop && localDate(o.stop) });
        await printList(
          cmd,
          ['timestamp', 'granularity', 'value'],
          rows.map(([ts, g, v]: Measure) => [isoformat(ts, !o.utc), g, v]),
        );
      },
    );

  const policy = metric.command('archive-policy').description('archive policies: how long measures are kept, at which granularities');
  listOptions(policy.command('list').description('list archive policies')).action(async (_o, cmd: Command) => {
    const policies = await (await metricClient(cmd)).archivePolicies();
    const columns = ['name', 'back_window', 'definition', 'aggregation_methods'];
    await printList(
      cmd,
      columns,
      policies.map((p) => {
        const f = policyFields(p);
        return columns.map((c) => f[c]);
      }),
    );
  });
  showOptions(policy.command('show').description('show an archive policy').argument('<name>', 'name of the archive policy')).action(
    async (name: string, _o, cmd: Command) => {
      await printShow(cmd, sorted(policyFields(await (await metricClient(cmd)).archivePolicy(name))));
    },
  );

  listOptions(metric.command('aggregates').description('aggregate measures across metrics or resources: (aggregate mean (metric cpu rate:mean))'))
    .argument('<operations>', 'operations to apply to the time series')
    .argument('[search]', "the resources whose metrics are aggregated, in Gnocchi's filter language")
    .option('--resource-type <type>', 'resource type to search', 'generic')
    .option('--start <start>', 'beginning of the period')
    .option('--stop <stop>', 'end of the period')
    .option('--granularity <granularity>', 'granularity, in seconds')
    .option('--needed-overlap <percent>', 'percentage of overlap across datapoints')
    .option('--groupby <attribute>', 'attribute to group resources by (repeat for more)', append)
    .option('--fill <fill>', "value for missing points: a number or 'null'")
    .action(
      async (
        operations: string,
        search: string | undefined,
        o: { resourceType: string; start?: string; stop?: string; granularity?: string; neededOverlap?: string; groupby?: string[]; fill?: string },
        cmd: Command,
      ) => {
        const client = await metricClient(cmd);
        const groupby = (o.groupby ?? []).map((g) => `groupby=${encodeURIComponent(g)}`).join('&');
        const body = { operations, ...(search === undefined ? {} : { search, resource_type: o.resourceType }) };
        const answer = (await client.aggregates(
          body,
          { start: o.start, stop: o.stop, granularity: o.granularity, needed_overlap: o.neededOverlap, fill: o.fill },
          groupby,
        )) as unknown;
        const columns = ['name', 'timestamp', 'granularity', 'value'];
        if (search !== undefined && o.groupby?.length) {
          const groups = answer as { group: Record<string, unknown>; measures: { measures: MetricBody } }[];
          const rows = groups.flatMap((g) => {
            const name = Object.keys(g.group)
              .sort()
              .map((k) => `${k}: ${String(g.group[k])}`)
              .join(', ');
            return flatten(g.measures.measures).map((r) => [name, ...r]);
          });
          await printList(cmd, ['group', ...columns], rows);
        } else await printList(cmd, columns, flatten((answer as { measures: MetricBody }).measures));
      },
    );
}

/** The series of an aggregates answer, each row named by its path (resource/metric/method). */
function flatten(data: MetricBody, labels: string[] = []): unknown[][] {
  return Object.entries(data).flatMap(([key, v]) =>
    Array.isArray(v)
      ? (v as Measure[]).map(([ts, g, value]) => [[...labels, key].join('/'), isoformat(ts, false), g, value])
      : flatten(v as MetricBody, [...labels, key]),
  );
}

/** gnocchiclient reads --start and --stop as ISO 8601 dates, in local time when they name no
 * zone, and sends them in Python's isoformat. */
function localDate(s: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return s;
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) return isoformat(s, false);
  // Without a zone JavaScript reads a date and time as local, but a bare date as UTC.
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00` : s.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? s : isoformat(d.toISOString(), true);
}
