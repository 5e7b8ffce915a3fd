import { networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { cpuInfo, hypervisorVersion, listHypervisors, uptimeLine, type Hypervisor } from '../hypervisors.ts';
import { isUp } from '../services.ts';
import { versionOf, type Microversion } from './microversion.ts';

const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  marker: Type.Optional(Type.String()),
  hostname_pattern: Type.Optional(Type.String()),
  with_servers: Type.Optional(Type.String()),
});
const ById = Type.Object({ id: Type.String() });
const ShowQuery = Type.Object({ with_servers: Type.Optional(Type.String()) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const truthy = (v: string | undefined) => v !== undefined && ['true', '1', 't', 'yes', 'y', 'on'].includes(v.toLowerCase());

/** The address other hosts reach this one at (Nova's my_ip), for a host that did not give one: its first non-loopback IPv4 address. */
const hostIp = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? null;

const idOf = (h: Hypervisor, v: Microversion) => (v.atLeast('2.53') ? h.host.uuid : h.host.id);

function summary(h: Hypervisor, v: Microversion, withServers: boolean) {
  return {
    id: idOf(h, v),
    hypervisor_hostname: h.host.name,
    state: isUp(h.service!) ? 'up' : 'down',
    status: h.service!.disabled ? 'disabled' : 'enabled',
    ...(withServers && h.servers.length ? { servers: h.servers.map((s) => ({ name: `instance-${s.id.slice(0, 8)}`, uuid: s.id })) } : {}),
  };
}

/** What the host has and what its servers use; Nova reserves the host's own memory as used. */
function usage(h: Hypervisor) {
  const memoryUsed = h.used.ram + h.host.reservedMemoryMiB;
  return {
    vcpus: h.host.vcpus,
    memory_mb: h.host.memoryMiB,
    local_gb: h.host.diskGiB,
    vcpus_used: h.used.vcpus,
    memory_mb_used: memoryUsed,
    local_gb_used: h.used.disk,
    free_ram_mb: h.host.memoryMiB - memoryUsed,
    free_disk_gb: h.host.diskGiB - h.used.disk,
    current_workload: h.servers.filter((s) => s.busy).length,
    running_vms: h.servers.length,
  };
}

async function detail(h: Hypervisor, v: Microversion, driver: string, withServers: boolean) {
  const cpu = cpuInfo(h.host);
  const u = usage(h);
  return {
    ...summary(h, v, withServers),
    ...(v.below('2.88') ? { ...u, cpu_info: v.atLeast('2.28') ? cpu : JSON.stringify(cpu) } : { uptime: uptimeLine() }),
    disk_available_least: u.free_disk_gb,
    host_ip: h.host.hostIp ?? hostIp(),
    hypervisor_type: driver === 'qemu' ? 'QEMU' : driver,
    hypervisor_version: await hypervisorVersion(driver),
    service: { host: h.host.name, id: v.atLeast('2.53') ? h.service!.uuid : h.service!.id, disabled_reason: h.service!.disabledReason },
  };
}

/** /os-hypervisors: this cloud's hosts with their real resources and what the servers placed on them use. */
export function hypervisorRoutes(app: FastifyInstance, store: Store, driver: string): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = store;
  const config = { policy: 'compute:os-hypervisors' };
  // A host whose compute service was deleted is no hypervisor until its agent registers again.
  const all = async () => (await listHypervisors(db)).filter((h) => h.service);

  async function find(request: FastifyRequest, id: string): Promise<Hypervisor> {
    const v = versionOf(request);
    if (v.atLeast('2.53') && !UUID.test(id)) throw badRequest(`Invalid uuid ${id}`);
    const h = (await all()).find((x) => String(idOf(x, v)) === id);
    if (!h) throw notFound(`Hypervisor with ID ${id} could not be found.`);
    return h;
  }

  /** The list's page (2.33: limit and marker) or, from 2.53, the hosts matching hostname_pattern. */
  async function listed(request: FastifyRequest) {
    const v = versionOf(request);
    const q = request.query as { limit?: string; marker?: string; hostname_pattern?: string };
    let rows = await all();
    if (v.atLeast('2.53') && q.hostname_pattern !== undefined) {
      if (q.limit !== undefined || q.marker !== undefined) throw badRequest('Paging over hypervisors with hostname_pattern is not supported.');
      rows = rows.filter((h) => h.host.name.includes(q.hostname_pattern!));
      if (!rows.length) throw notFound(`No hypervisor matching '${q.hostname_pattern}' could be found.`);
      return { rows };
    }
    if (v.below('2.33')) return { rows };
    if (q.marker !== undefined) {
      const at = rows.findIndex((h) => String(idOf(h, v)) === q.marker);
      if (at < 0) throw badRequest(`marker [${q.marker}] not found`);
      rows = rows.slice(at + 1);
    }
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit === undefined || rows.length <= limit) return { rows };
    rows = rows.slice(0, limit);
    const url = new URL(request.url, request.publicUrl);
    url.searchParams.set('marker', String(idOf(rows.at(-1)!, v)));
    return { rows, links: [{ rel: 'next', href: `${request.publicUrl}${url.pathname}${url.search}` }] };
  }

  api.get('/os-hypervisors', { config, schema: { querystring: ListQuery } }, async (request) => {
    const v = versionOf(request);
    const { rows, links } = await listed(request);
    const withServers = v.atLeast('2.53') && truthy(request.query.with_servers);
    return { hypervisors: rows.map((h) => summary(h, v, withServers)), ...(links ? { hypervisors_links: links } : {}) };
  });

  api.get('/os-hypervisors/detail', { config, schema: { querystring: ListQuery } }, async (request) => {
    const v = versionOf(request);
    const { rows, links } = await listed(request);
    const withServers = v.atLeast('2.53') && truthy(request.query.with_servers);
    return { hypervisors: await Promise.all(rows.map((h) => detail(h, v, driver, withServers))), ...(links ? { hypervisors_links: links } : {}) };
  });

  api.get('/os-hypervisors/statistics', { config }, async (request) => {
    if (versionOf(request).atLeast('2.88')) throw notFound('The resource could not be found.');
    const rows = (await all()).map(usage);
    const sum = (k: keyof ReturnType<typeof usage>) => rows.reduce((n, r) => n + r[k], 0);
    return {
      hypervisor_statistics: {
        count: rows.length,
        vcpus: sum('vcpus'),
        memory_mb: sum('memory_mb'),
        local_gb: sum('local_gb'),
        vcpus_used: sum('vcpus_used'),
        memory_mb_used: sum('memory_mb_used'),
        local_gb_used: sum('local_gb_used'),
        free_ram_mb: sum('free_ram_mb'),
        free_disk_gb: sum('free_disk_gb'),
        current_workload: sum('current_workload'),
        running_vms: sum('running_vms'),
        disk_available_least: sum('free_disk_gb'),
      },
    };
  });

  api.get('/os-hypervisors/:id', { config, schema: { params: ById, querystring: ShowQuery } }, async (request) => {
    const v = versionOf(request);
    const h = await find(request, request.params.id);
    return { hypervisor: await detail(h, v, driver, v.atLeast('2.53') && truthy(request.query.with_servers)) };
  });

  api.get('/os-hypervisors/:id/uptime', { config, schema: { params: ById } }, async (request) => {
    const v = versionOf(request);
    if (v.atLeast('2.88')) throw notFound('The resource could not be found.');
    const h = await find(request, request.params.id);
    return { hypervisor: { ...summary(h, v, false), uptime: uptimeLine() } };
  });

  // Before 2.53, hosts by a part of their name, with or without their servers.
  for (const [suffix, withServers] of [
    ['search', false],
    ['servers', true],
  ] as const) {
    api.get(`/os-hypervisors/:id/${suffix}`, { config, schema: { params: ById } }, async (request) => {
      const v = versionOf(request);
      if (v.atLeast('2.53')) throw notFound('The resource could not be found.');
      const rows = (await all()).filter((h) => h.host.name.includes(request.params.id));
      if (!rows.length) throw notFound(`No hypervisor matching '${request.params.id}' could be found.`);
      return { hypervisors: rows.map((h) => summary(h, v, withServers)) };
    });
  }
}
