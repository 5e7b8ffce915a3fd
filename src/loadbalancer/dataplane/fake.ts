import type { StatRow } from '../haproxy/stats.ts';
import type { LbDataplane, LbSpec } from './driver.ts';

/** Load balancers kept in memory, for clouds whose networks are wired in memory only: HAProxy
 * "runs" once ensured and reports every listener open and every member unchecked. */
export function createFakeLbDataplane(): LbDataplane {
  const running = new Map<string, LbSpec>();
  return {
    async ensure(spec) {
      const before = running.get(spec.id);
      running.set(spec.id, spec);
      const ports = [spec.vip, ...spec.legs].map((l) => l.portId);
      return { unplugged: ports.filter((p) => !before || ![before.vip, ...before.legs].some((l) => l.portId === p)), started: true };
    },
    async remove(id) {
      running.delete(id);
    },
    async stats(id) {
      const spec = running.get(id);
      if (!spec) return undefined;
      const row = (pxname: string, svname: string, status: string): StatRow => ({ pxname, svname, status, scur: 0, stot: 0, bin: 0, bout: 0, ereq: 0 });
      return spec.config.listeners.flatMap((l) => {
        const pool = spec.config.pools.find((p) => p.id === l.defaultPoolId);
        const be = pool ? `${pool.id}:${l.id}` : '';
        return [
          row(l.id, 'FRONTEND', 'OPEN'),
          ...(pool?.members ?? []).map((m) => row(be, m.id, !m.enabled ? 'MAINT' : pool!.monitor?.enabled ? 'UP' : 'no check')),
        ];
      });
    },
    async inventory() {
      return [...running.keys()];
    },
  };
}
