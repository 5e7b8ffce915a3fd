import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { GnocchiError, MetricClient, type Measure, type MetricBody } from '../../client/metric.ts';
import { connect } from '../context.ts';

// `nubo top`: the project's busiest servers and ports, from the metric API alone. The counters
// (cpu in ns, network.*.bytes) are cumulative, so a rate is the difference of the last two points
// of the finest granularity over their time apart, which needs no rate:* method in the policy.

/** How far back measures are read: enough for two points at a few minutes' granularity. */
const WINDOW_MS = 30 * 60_000;

export interface Rate {
  /** Units per second over the last interval, or undefined with fewer than two points. */
  perSecond?: number;
  /** When the last point was taken. */
  at?: string;
}

/** The rate of a cumulative counter from its measures (any granularities, any order). */
export function rateOf(measures: Measure[]): Rate {
  if (!measures.length) return {};
  const finest = Math.min(...measures.map((m) => m[1]));
  const points = measures.filter((m) => m[1] === finest).sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
  const last = points.at(-1)!;
  const previous = points.at(-2);
  if (!previous) return { at: last[0] };
  const seconds = (Date.parse(last[0]) - Date.parse(previous[0])) / 1000;
  // A counter that went down started again (a reboot): its new value is what it counted since.
  const delta = last[2] >= previous[2] ? last[2] - previous[2] : last[2];
  return { perSecond: seconds > 0 ? delta / seconds : undefined, at: last[0] };
}

interface ServerRow {
  id: string;
  name: string;
  host: string;
  cpu: Rate;
}

interface PortRow {
  id: string;
  name: string;
  server: string;
  incoming: Rate;
  outgoing: Rate;
}

/** The measures of a resource's metric, or none when it has no such metric. */
async function measuresOf(client: MetricClient, resource: MetricBody, metric: string, start: string): Promise<Measure[]> {
  const id = (resource.metrics as Record<string, string> | undefined)?.[metric];
  if (!id) return [];
  try {
    return await client.measures(id, undefined, { start, aggregation: 'mean' });
  } catch (err) {
    // Deleted between the listing and now, or kept without a mean: nothing to show for it.
    if (err instanceof GnocchiError && err.status === 404) return [];
    throw err;
  }
}

/** One look at the project: its live servers and ports, each with its rates. */
export async function sample(client: MetricClient, now = Date.now()): Promise<{ servers: ServerRow[]; ports: PortRow[] }> {
  const start = new Date(now - WINDOW_MS).toISOString();
  const live = (r: MetricBody) => r.ended_at === null || r.ended_at === undefined;
  const [instances, interfaces] = await Promise.all([client.resources('instance'), client.resources('instance_network_interface')]);
  const names = new Map(instances.map((r) => [r.id as string, String(r.display_name ?? r.id)]));
  const servers = await Promise.all(
    instances.filter(live).map(async (r) => ({
      id: r.id as string,
      name: String(r.display_name ?? ''),
      host: String(r.host ?? ''),
      cpu: rateOf(await measuresOf(client, r, 'cpu', start)),
    })),
  );
  const ports = await Promise.all(
    interfaces.filter(live).map(async (r) => {
      const [incoming, outgoing] = await Promise.all([
        measuresOf(client, r, 'network.incoming.bytes', start),
        measuresOf(client, r, 'network.outgoing.bytes', start),
      ]);
      const server = String(r.instance_id ?? '');
      return { id: r.id as string, name: String(r.name ?? ''), server: names.get(server) ?? server, incoming: rateOf(incoming), outgoing: rateOf(outgoing) };
    }),
  );
  const value = (r: Rate) => r.perSecond ?? -1;
  servers.sort((a, b) => value(b.cpu) - value(a.cpu) || a.name.localeCompare(b.name));
  ports.sort((a, b) => value(b.incoming) + value(b.outgoing) - (value(a.incoming) + value(a.outgoing)) || a.name.localeCompare(b.name));
  return { servers, ports };
}

const percent = (r: Rate) => (r.perSecond === undefined ? '-' : ((r.perSecond / 1e9) * 100).toFixed(1));

/** Bytes per second as top-like tools write them: 1.2K, 3.4M. */
export function bytesRate(r: Rate): string {
  if (r.perSecond === undefined) return '-';
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = r.perSecond;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i ? `${v.toFixed(1)}${units[i]}` : v.toFixed(0);
}

/** Columns padded to their widest cell; the numeric ones right-aligned. */
function columns(head: string[], rows: string[][], right: boolean[], width: number): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
      .slice(0, width);
  return [line(head), ...rows.map(line)];
}

/** A frame of text; `bold` wraps the headings in ANSI bold when writing to a terminal. */
export function frame(data: Awaited<ReturnType<typeof sample>>, opts: { limit: number; width: number; bold: boolean; title: string }): string {
  const b = (s: string) => (opts.bold ? `\x1b[1m${s}\x1b[0m` : s);
  const servers = columns(
    ['SERVER', 'ID', 'HOST', 'CPU%'],
    data.servers.slice(0, opts.limit).map((s) => [s.name, s.id, s.host, percent(s.cpu)]),
    [false, false, false, true],
    opts.width,
  );
  const ports = columns(
    ['PORT', 'SERVER', 'IN B/s', 'OUT B/s'],
    data.ports.slice(0, opts.limit).map((p) => [p.name, p.server, bytesRate(p.incoming), bytesRate(p.outgoing)]),
    [false, false, true, true],
    opts.width,
  );
  return [
    opts.title,
    '',
    `${b(servers[0]!)}`,
    ...(servers.length > 1 ? servers.slice(1) : ['(no servers measured)']),
    '',
    `${b(ports[0]!)}`,
    ...(ports.length > 1 ? ports.slice(1) : ['(no ports measured)']),
    '',
  ].join('\n');
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new ClientError(`--${name} takes a positive number: ${v}`);
  return n;
};

export function register(top: Command): void {
  top
    .option('-d, --delay <seconds>', 'seconds between refreshes', positive('delay'), 5)
    .option('-n, --limit <rows>', 'rows per table', positive('limit'), 10)
    .option('--once', 'print one frame and exit')
    .action(async (o: { delay: number; limit: number; once?: boolean }, cmd: Command) => {
      const cloud = await connect(cmd);
      const client = new MetricClient(cloud.session);
      const project = cloud.session.auth.project?.name ?? '';
      const tty = Boolean(process.stdout.isTTY) && !o.once;
      const draw = async () => {
        const data = await sample(client);
        const when = new Date().toISOString().slice(0, 19).replace('T', ' ');
        const title = `nubo top - project ${project} - ${when} UTC${tty ? ` - every ${o.delay} s, q to quit` : ''}`;
        const text = frame(data, { limit: o.limit, width: tty ? process.stdout.columns || 120 : Infinity, bold: Boolean(process.stdout.isTTY), title });
        // Home and clear, then the frame: plain ANSI, which every terminal takes.
        process.stdout.write(tty ? `\x1b[H\x1b[2J${text}` : text);
      };
      if (!tty) return draw();
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const stop = () => {
          clearTimeout(timer);
          if (process.stdin.isTTY) process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stdout.write('\x1b[?25h');
          resolve();
        };
        if (process.stdin.isTTY) {
          process.stdin.setRawMode(true);
          process.stdin.resume();
          // q, Ctrl-C or Esc; raw mode turns Ctrl-C into a byte instead of a signal.
          process.stdin.on('data', (key: Buffer) => ['q', 'Q', '\x03', '\x1b'].includes(key.toString()) && stop());
        }
        process.once('SIGINT', stop);
        process.stdout.write('\x1b[?25l');
        const loop = () =>
          draw().then(
            () => (timer = setTimeout(loop, o.delay * 1000)),
            (err: Error) => {
              stop();
              reject(err);
            },
          );
        void loop();
      });
    });
}
