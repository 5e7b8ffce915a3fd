import { execFile } from 'node:child_process';
import { arch, cpus, loadavg, uptime } from 'node:os';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { allocations, type Host } from './scheduler.ts';
import { hosts, servers, services } from './tables.ts';
import type { Service } from './services.ts';

/** A host as os-hypervisors reports it: what it has, what the servers placed on it use, its compute service. */
export interface Hypervisor {
  host: Host;
  service: Service | undefined;
  used: { vcpus: number; ram: number; disk: number };
  servers: { id: string; name: string; busy: boolean }[];
}

export async function listHypervisors(db: Db): Promise<Hypervisor[]> {
  const [rows, computes, used, placed] = await Promise.all([
    db.select().from(hosts).orderBy(hosts.id),
    db.select().from(services).where(eq(services.binary, 'nova-compute')),
    allocations(db),
    db
      .select({
        id: servers.id,
        name: servers.name,
        host: servers.host,
        vmState: servers.vmState,
        generation: servers.generation,
        observed: servers.observedGeneration,
      })
      .from(servers)
      .orderBy(servers.createdAt),
  ]);
  return rows.map((host) => ({
    host,
    service: computes.find((c) => c.host === host.name),
    used: used.get(host.name) ?? { vcpus: 0, ram: 0, disk: 0 },
    servers: placed
      .filter((s) => s.host === host.name)
      // Nova's current_workload counts the servers with a task under way.
      .map((s) => ({ id: s.id, name: s.name, busy: s.vmState === 'building' || s.generation > s.observed })),
  }));
}

const run = promisify(execFile);
let qemuVersion: Promise<number> | undefined;

/** The hypervisor's version as libvirt encodes it (major × 10⁶ + minor × 10³ + micro): QEMU's for the qemu driver. */
export function hypervisorVersion(driver: string): Promise<number> {
  if (driver !== 'qemu') return Promise.resolve(1000);
  qemuVersion ??= run('qemu-system-x86_64', ['--version']).then(
    ({ stdout }) => {
      const [, a, b, c] = /version (\d+)\.(\d+)\.(\d+)/.exec(stdout) ?? [];
      return a ? Number(a) * 1_000_000 + Number(b) * 1000 + Number(c) : 0;
    },
    () => 0,
  );
  return qemuVersion;
}

/** The host's CPU as libvirt describes it to Nova (cpu_info). */
export function cpuInfo(host: Host) {
  const model = cpus()[0]?.model ?? 'unknown';
  return {
    arch: arch() === 'x64' ? 'x86_64' : arch(),
    model,
    vendor: /intel/i.test(model) ? 'Intel' : /amd/i.test(model) ? 'AMD' : 'unknown',
    topology: { cells: 1, sockets: 1, cores: host.vcpus, threads: 1 },
    features: [],
  };
}

/** The `uptime` command's line, which Nova's libvirt driver reports for its host. */
export function uptimeLine(now = new Date()): string {
  const secs = Math.floor(uptime());
  const days = Math.floor(secs / 86_400);
  const hh = Math.floor((secs % 86_400) / 3600);
  const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, '0');
  const up = `${days ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${String(hh).padStart(2, ' ')}:${mm}`;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  return ` ${now.toISOString().slice(11, 19)} up ${up},  0 users,  load average: ${load}`;
}
