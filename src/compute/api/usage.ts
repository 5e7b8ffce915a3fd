import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { hoursIn, serversRunIn, type UsageRecord } from '../usage.ts';
import { versionOf } from './microversion.ts';

const Query = Type.Object({
  start: Type.Optional(Type.String()),
  end: Type.Optional(Type.String()),
  detailed: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  marker: Type.Optional(Type.String()),
});
type Query = { start?: string; end?: string; detailed?: string; limit?: string; marker?: string };
// Named project_id so that the policy's project rule reads it.
const ByTenant = Type.Object({ project_id: Type.String() });

/** Nova's accepted time formats, all UTC: 2026-12-01T00:00:00, with .ffffff, or with a space. */
const TIME = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d{1,6})?$/;
function parseTime(v: string | undefined, what: string): Date {
  if (v === undefined) return new Date();
  const m = TIME.exec(v);
  const d = m ? new Date(`${m[1]}T${m[2]}${m[3] ?? ''}Z`) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw badRequest(`Invalid ${what} time. The ${what} time must be in format %Y-%m-%dT%H:%M:%S[.%f].`);
  return d;
}

/** Python's isoformat of a naive datetime: microseconds only when there are some. */
const isoformat = (d: Date) => (d.getUTCMilliseconds() ? d.toISOString().replace('Z', '000') : d.toISOString().replace(/\.\d+Z$/, ''));

function serverUsage(r: UsageRecord, start: Date, stop: Date, now: Date) {
  const f = r.flavor;
  return {
    instance_id: r.id,
    name: r.name,
    tenant_id: r.projectId,
    flavor: f.name,
    vcpus: f.vcpus,
    memory_mb: f.ram,
    local_gb: f.disk + f.ephemeral,
    hours: hoursIn(r, start, stop),
    started_at: isoformat(r.launchedAt),
    ended_at: r.terminatedAt ? isoformat(r.terminatedAt) : null,
    state: r.state,
    uptime: Math.floor(((r.terminatedAt ?? now).getTime() - r.launchedAt.getTime()) / 1000),
  };
}

/** One project's usage over the period: totals (hours, and per-hour vCPUs, MiB and GiB), and each server's when detailed. */
function tenantUsage(projectId: string, records: UsageRecord[], start: Date, stop: Date, detailed: boolean) {
  const now = new Date();
  const servers = records.map((r) => serverUsage(r, start, stop, now));
  return {
    tenant_id: projectId,
    start: isoformat(start),
    stop: isoformat(stop),
    total_hours: servers.reduce((n, s) => n + s.hours, 0),
    total_vcpus_usage: servers.reduce((n, s) => n + s.hours * s.vcpus, 0),
    total_memory_mb_usage: servers.reduce((n, s) => n + s.hours * s.memory_mb, 0),
    total_local_gb_usage: servers.reduce((n, s) => n + s.hours * s.local_gb, 0),
    ...(detailed ? { server_usages: servers } : {}),
  };
}

/** The period and, from 2.40, the page of servers (by marker and limit) a request asks for; the link to the next page when it is full. */
async function usagePage(store: Store, request: FastifyRequest, projectId?: string) {
  const q = request.query as Query;
  const start = parseTime(q.start, 'start');
  const stop = parseTime(q.end, 'end');
  if (start > stop) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  let records = await serversRunIn(store.db, start, stop, projectId);
  let next: string | undefined;
  if (versionOf(request).atLeast('2.40')) {
    if (q.marker !== undefined) {
      const at = records.findIndex((r) => r.id === q.marker);
      if (at < 0) throw badRequest(`Marker ${q.marker} could not be found.`);
      records = records.slice(at + 1);
    }
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && records.length >= limit) {
      records = records.slice(0, limit);
      const url = new URL(request.url, request.publicUrl);
      if (records.length) url.searchParams.set('marker', records.at(-1)!.id);
      next = `${request.publicUrl}${url.pathname}${url.search}`;
    }
  }
  return { start, stop, records, links: next ? [{ rel: 'next', href: next }] : undefined };
}

/** /os-simple-tenant-usage: what projects' servers used over a period, as dashboards chart it. */
export function usageRoutes(app: FastifyInstance, store: Store): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/os-simple-tenant-usage', { config: { policy: 'compute:os-simple-tenant-usage:list' }, schema: { querystring: Query } }, async (request) => {
    const { start, stop, records, links } = await usagePage(store, request);
    const byProject = new Map<string, UsageRecord[]>();
    for (const r of records) byProject.set(r.projectId, [...(byProject.get(r.projectId) ?? []), r]);
    const detailed = request.query.detailed === '1';
    return {
      tenant_usages: [...byProject].map(([projectId, rs]) => tenantUsage(projectId, rs, start, stop, detailed)),
      ...(links ? { tenant_usages_links: links } : {}),
    };
  });

  api.get(
    '/os-simple-tenant-usage/:project_id',
    { config: { policy: 'compute:os-simple-tenant-usage:show' }, schema: { params: ByTenant, querystring: Query } },
    async (request) => {
      const { project_id: tenantId } = request.params;
      const { start, stop, records, links } = await usagePage(store, request, tenantId);
      return {
        // A project that used nothing in the period gets zero totals, where Nova answers an empty
        // object that `openstack usage show` cannot print ("must be real number, not str").
        tenant_usage: tenantUsage(tenantId, records, start, stop, true),
        ...(links ? { tenant_usage_links: links } : {}),
      };
    },
  );
}
