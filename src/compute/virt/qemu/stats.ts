import { readFile } from 'node:fs/promises';
import type { GuestSpec, GuestStats, VirtDriver } from '../driver.ts';
import type { GuestAccess } from './hotplug.ts';
import { withQmp } from './qmp.ts';
import { nodeNameOf } from './volumes.ts';

// A running guest's counters, read where the host keeps them: the qemu process's CPU time and
// resident memory in /proc, its disks' I/O from QMP, its taps' traffic from the network namespace
// qemu runs in (/proc/PID/net/dev: no command to run, whichever namespace holds the taps).

/** Linux's USER_HZ on every architecture Nubo runs on: /proc's CPU times are in these ticks. */
const TICKS_PER_SECOND = 100;

interface BlockStats {
  device?: string;
  'node-name'?: string;
  stats: { rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number };
}

/** The guest's disks as it sees them, by QMP node: its root disk vda, then each volume in the
 * order attached. */
function diskNames(spec: GuestSpec | undefined): Map<string, { name: string; volumeId?: string }> {
  const names = new Map<string, { name: string; volumeId?: string }>();
  const volumes = [...(spec?.rootVolume ? [spec.rootVolume] : []), ...(spec?.volumes ?? [])];
  if (!spec?.rootVolume) names.set('root', { name: 'vda' });
  volumes.forEach((v, i) => names.set(nodeNameOf(v.volumeId), { name: `vd${String.fromCharCode(97 + i + (spec?.rootVolume ? 0 : 1))}`, volumeId: v.volumeId }));
  return names;
}

/** The counters of the devices of /proc/PID/net/dev whose names are given. */
export function parseNetDev(text: string, taps: Set<string>): GuestStats['nics'] {
  const out: GuestStats['nics'] = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 0 || !taps.has(name)) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out[name] = { rxBytes: f[0]!, rxPackets: f[1]!, rxDrop: f[3]!, txBytes: f[8]!, txPackets: f[9]!, txDrop: f[11]! };
  }
  return out;
}

export function statsOps(g: GuestAccess, specOf: (uuid: string) => Promise<GuestSpec | undefined>): Pick<VirtDriver, 'stats'> {
  return {
    async stats(uuid) {
      const pid = await g.pidOf(uuid);
      if (!pid) return undefined;
      const [stat, statm, netDev, spec] = await Promise.all([
        readFile(`/proc/${pid}/stat`, 'utf8'),
        readFile(`/proc/${pid}/statm`, 'utf8'),
        readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => ''),
        specOf(uuid),
      ]).catch(() => [undefined, undefined, undefined, undefined] as const);
      // The process ended between the pid check and the reads.
      if (stat === undefined || statm === undefined) return undefined;
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuNs = ((Number(fields[11]) + Number(fields[12])) * 1e9) / TICKS_PER_SECOND;
      const residentMiB = (Number(statm.split(' ')[1]) * 4096) / 2 ** 20;
      const names = diskNames(spec);
      const blocks = await withQmp(g.qmpSocket(uuid), (q) => q.execute<BlockStats[]>('query-blockstats'), 2000).catch(() => [] as BlockStats[]);
      const disks = blocks.flatMap((b) => {
        const disk = names.get(b.device || b['node-name'] || '');
        if (!disk) return [];
        const s = b.stats;
        return [{ ...disk, readBytes: s.rd_bytes, writeBytes: s.wr_bytes, readRequests: s.rd_operations, writeRequests: s.wr_operations }];
      });
      return { cpuNs, residentMiB, disks, nics: parseNetDev(netDev ?? '', new Set((spec?.nics ?? []).map((n) => n.tap))) };
    },
  };
}
