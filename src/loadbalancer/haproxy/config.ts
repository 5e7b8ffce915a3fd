// HAProxy's configuration for one load balancer, rendered as pure text from its records: one
// frontend per listener on the VIP, one backend per pool with a server per member. Sections and
// servers are named by id, so that the stats socket's rows map back to records.

import type { ListenerProtocol, MonitorType, PoolAlgorithm } from '../tables.ts';

export interface LbConfig {
  vipAddress: string;
  /** The unix socket HAProxy reports its state on. */
  statsSocket: string;
  /** The script a PING monitor runs (HAProxy has no ICMP check of its own). */
  pingScript: string;
  listeners: {
    id: string;
    protocol: ListenerProtocol;
    port: number;
    enabled: boolean;
    connectionLimit: number;
    timeoutClientData: number;
    timeoutMemberConnect: number;
    timeoutMemberData: number;
    defaultPoolId?: string;
  }[];
  pools: {
    id: string;
    enabled: boolean;
    algorithm: PoolAlgorithm;
    sourceIpPersistence: boolean;
    monitor?: { type: MonitorType; delay: number; timeout: number; rise: number; fall: number; method?: string; path?: string; codes?: string; enabled: boolean };
    members: { id: string; address: string; port: number; weight: number; backup: boolean; enabled: boolean; monitorAddress?: string; monitorPort?: number }[];
  }[];
}

const BALANCE: Record<PoolAlgorithm, string> = { ROUND_ROBIN: 'roundrobin', LEAST_CONNECTIONS: 'leastconn', SOURCE_IP: 'source' };

/** expected_codes (200, 200,202 or 200-204) as HAProxy's status regex. */
export function codesRegex(codes: string): string {
  if (codes.includes('-')) {
    const [from, to] = codes.split('-').map(Number) as [number, number];
    return `^(${Array.from({ length: to - from + 1 }, (_, i) => from + i).join('|')})$`;
  }
  return `^(${codes.split(',').join('|')})$`;
}

/** The backend a listener's traffic goes to: the pool's own section, in the listener's mode
 * (a TCP listener may carry an HTTP pool, which it then balances as TCP). */
const backendName = (poolId: string, listenerId: string) => `${poolId}:${listenerId}`;

export function renderConfig(c: LbConfig): string {
  const ping = c.pools.some((p) => p.monitor?.enabled && p.monitor.type === 'PING');
  const out: string[] = [
    'global',
    `    stats socket ${c.statsSocket} mode 600 level admin expose-fd listeners`,
    ...(ping ? ['    external-check', '    insecure-fork-wanted'] : []),
    '',
    'defaults',
    '    retries 3',
    '    option redispatch',
    '    timeout check 5s',
    '',
  ];
  for (const l of c.listeners) {
    const mode = l.protocol === 'HTTP' ? 'http' : 'tcp';
    out.push(`frontend ${l.id}`, `    mode ${mode}`, `    bind ${c.vipAddress}:${l.port}`);
    if (l.connectionLimit > 0) out.push(`    maxconn ${l.connectionLimit}`);
    out.push(`    timeout client ${l.timeoutClientData}`);
    if (mode === 'http') out.push('    option httplog', '    option forwardfor');
    if (!l.enabled) out.push('    disabled');
    const pool = c.pools.find((p) => p.id === l.defaultPoolId);
    if (pool) out.push(`    default_backend ${backendName(pool.id, l.id)}`);
    out.push('');
    if (!pool) continue;
    out.push(`backend ${backendName(pool.id, l.id)}`, `    mode ${mode}`, `    balance ${BALANCE[pool.algorithm]}`);
    out.push(`    timeout connect ${l.timeoutMemberConnect}`, `    timeout server ${l.timeoutMemberData}`);
    if (pool.sourceIpPersistence) out.push('    stick-table type ip size 10k', '    stick on src');
    const m = pool.monitor?.enabled ? pool.monitor : undefined;
    if (m) {
      out.push(`    timeout check ${m.timeout}s`);
      if (m.type === 'HTTP') {
        out.push(`    option httpchk ${m.method ?? 'GET'} ${m.path ?? '/'}`, `    http-check expect rstatus ${codesRegex(m.codes ?? '200')}`);
      } else if (m.type === 'PING') {
        out.push('    option external-check', `    external-check command ${c.pingScript}`);
      }
    }
    if (!pool.enabled) out.push('    disabled');
    for (const s of pool.members) {
      const parts = [`    server ${s.id} ${s.address}:${s.port} weight ${s.weight}`];
      if (m) {
        parts.push(`check inter ${m.delay}s fall ${m.fall} rise ${m.rise}`);
        if (s.monitorAddress) parts.push(`addr ${s.monitorAddress}`);
        if (s.monitorPort) parts.push(`port ${s.monitorPort}`);
      }
      if (s.backup) parts.push('backup');
      if (!s.enabled) parts.push('disabled');
      out.push(parts.join(' '));
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** The PING monitor's script: HAProxy passes the server's address third. */
export const PING_SCRIPT = '#!/bin/sh\nexec busybox ping -c 1 -W 2 "$3" >/dev/null 2>&1\n';
