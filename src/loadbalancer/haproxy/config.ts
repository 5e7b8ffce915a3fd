// HAProxy's configuration for one load balancer, rendered as pure text from its records: one
// frontend per listener on the VIP, one backend per pool with a server per member. Sections and
// servers are named by id, so that the stats socket's rows map back to records.

import type { L7Action, L7CompareType, L7RuleType, ListenerProtocol, MonitorType, PoolAlgorithm, SessionPersistence } from '../tables.ts';

/** An L7 policy as HAProxy applies it: only enabled ones with at least one enabled rule. */
export interface L7Spec {
  id: string;
  action: L7Action;
  poolId?: string;
  url?: string;
  prefix?: string;
  code?: number;
  rules: { type: L7RuleType; compare: L7CompareType; key?: string; value: string; invert: boolean }[];
}

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
    /** In the order they are tried. */
    l7policies: L7Spec[];
  }[];
  pools: {
    id: string;
    enabled: boolean;
    algorithm: PoolAlgorithm;
    persistence?: SessionPersistence;
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

const MATCH: Record<L7CompareType, string> = { STARTS_WITH: 'beg', ENDS_WITH: 'end', CONTAINS: 'sub', EQUAL_TO: 'str', REGEX: 'reg' };

/** One rule as an anonymous ACL. Values are checked to hold no quote, so single quotes carry them
 * whole (and keep HAProxy from expanding anything in them). */
function ruleAcl(r: L7Spec['rules'][number]): string {
  const q = (v: string) => `'${v}'`;
  const not = r.invert ? '!' : '';
  if (r.type === 'FILE_TYPE') return r.compare === 'REGEX' ? `${not}{ path -m reg ${q(r.value)} }` : `${not}{ path -m end ${q(`.${r.value}`)} }`;
  const fetch = { PATH: 'path', HOST_NAME: 'req.hdr(host),field(1,:) -i', HEADER: `req.hdr(${r.key})`, COOKIE: `req.cook(${r.key})` }[r.type];
  return `${not}{ ${fetch} -m ${MATCH[r.compare]} ${q(r.value)} }`;
}

/** A listener's L7 policies: the first whose rules all match names itself in a variable, and its
 * action then acts on that name alone, so that the order of positions holds whatever order
 * HAProxy runs deny, redirect and use_backend in. */
function l7Lines(listenerId: string, policies: L7Spec[]): string[] {
  const out: string[] = [];
  for (const p of policies) out.push(`    http-request set-var(txn.l7) str(${p.id}) if !{ var(txn.l7) -m found } ${p.rules.map(ruleAcl).join(' ')}`);
  for (const p of policies) {
    const chosen = `if { var(txn.l7) -m str ${p.id} }`;
    if (p.action === 'REJECT') out.push(`    http-request deny ${chosen}`);
    else if (p.action === 'REDIRECT_TO_URL') out.push(`    http-request redirect location '${p.url}' code ${p.code ?? 302} ${chosen}`);
    else if (p.action === 'REDIRECT_PREFIX') out.push(`    http-request redirect prefix '${p.prefix!.replace(/\/+$/, '')}' code ${p.code ?? 302} ${chosen}`);
    else if (p.poolId) out.push(`    use_backend ${backendName(p.poolId, listenerId)} ${chosen}`);
  }
  return out;
}

/** How a pool keeps a client on one member: by source address in a stick table, by a cookie
 * HAProxy inserts naming the member (HTTP_COOKIE), or by the member's own cookie, learnt from its
 * answers (APP_COOKIE). Cookies need HTTP mode. */
function persistenceLines(p: SessionPersistence | undefined, mode: string): string[] {
  if (p?.type === 'SOURCE_IP') return ['    stick-table type ip size 10k', '    stick on src'];
  if (mode !== 'http') return [];
  if (p?.type === 'HTTP_COOKIE') return ['    cookie SRV insert indirect nocache'];
  if (p?.type === 'APP_COOKIE') return ['    stick-table type string len 64 size 10k', `    stick store-response res.cook(${p.cookie_name})`, `    stick match req.cook(${p.cookie_name})`];
  return [];
}

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
    const policies = mode === 'http' ? l.l7policies.filter((p) => p.action !== 'REDIRECT_TO_POOL' || c.pools.some((x) => x.id === p.poolId)) : [];
    out.push(...l7Lines(l.id, policies));
    const pool = c.pools.find((p) => p.id === l.defaultPoolId);
    if (pool) out.push(`    default_backend ${backendName(pool.id, l.id)}`);
    out.push('');
    const used = new Set([...(pool ? [pool.id] : []), ...policies.flatMap((p) => (p.poolId ? [p.poolId] : []))]);
    for (const p of c.pools.filter((x) => used.has(x.id))) out.push(...backend(p, l, mode, c.pingScript));
  }
  return `${out.join('\n')}\n`;
}

function backend(pool: LbConfig['pools'][number], l: LbConfig['listeners'][number], mode: string, pingScript: string): string[] {
  const out = [`backend ${backendName(pool.id, l.id)}`, `    mode ${mode}`, `    balance ${BALANCE[pool.algorithm]}`];
  out.push(`    timeout connect ${l.timeoutMemberConnect}`, `    timeout server ${l.timeoutMemberData}`);
  out.push(...persistenceLines(pool.persistence, mode));
  const cookie = mode === 'http' && pool.persistence?.type === 'HTTP_COOKIE';
  const m = pool.monitor?.enabled ? pool.monitor : undefined;
  if (m) {
    out.push(`    timeout check ${m.timeout}s`);
    if (m.type === 'HTTP' || m.type === 'HTTPS') {
      out.push(`    option httpchk ${m.method ?? 'GET'} ${m.path ?? '/'}`, `    http-check expect rstatus ${codesRegex(m.codes ?? '200')}`);
    } else if (m.type === 'TLS-HELLO') {
      out.push('    option ssl-hello-chk');
    } else if (m.type === 'PING') {
      out.push('    option external-check', `    external-check command ${pingScript}`);
    }
  }
  if (!pool.enabled) out.push('    disabled');
  for (const s of pool.members) {
    const parts = [`    server ${s.id} ${s.address}:${s.port} weight ${s.weight}`];
    if (cookie) parts.push(`cookie ${s.id}`);
    if (m) {
      parts.push(`check inter ${m.delay}s fall ${m.fall} rise ${m.rise}`);
      // The member's own certificate is not checked, as Octavia's amphorae do not.
      if (m.type === 'HTTPS') parts.push('check-ssl verify none');
      if (s.monitorAddress) parts.push(`addr ${s.monitorAddress}`);
      if (s.monitorPort) parts.push(`port ${s.monitorPort}`);
    }
    if (s.backup) parts.push('backup');
    if (!s.enabled) parts.push('disabled');
    out.push(parts.join(' '));
  }
  out.push('');
  return out;
}

/** The PING monitor's script: HAProxy passes the server's address third. */
export const PING_SCRIPT = '#!/bin/sh\nexec busybox ping -c 1 -W 2 "$3" >/dev/null 2>&1\n';
