import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codesRegex, renderConfig, type LbConfig } from '../../src/loadbalancer/haproxy/config.ts';
import { healthOf, memberStatus } from '../../src/loadbalancer/agent/health.ts';
import { parseStats } from '../../src/loadbalancer/haproxy/stats.ts';

// The pure parts of the data plane: the configuration rendered from records, and HAProxy's
// report read back into Octavia's operating statuses.

const base: LbConfig = {
  vipAddress: '192.168.10.50',
  statsSocket: '/run/lb/stats.sock',
  pingScript: '/run/lb/ping.sh',
  listeners: [{ id: 'l1', protocol: 'HTTP', port: 80, enabled: true, connectionLimit: -1, timeoutClientData: 50000, timeoutMemberConnect: 5000, timeoutMemberData: 50000, defaultPoolId: 'p1', l7policies: [] }],
  pools: [
    {
      id: 'p1',
      enabled: true,
      algorithm: 'SOURCE_IP',
      persistence: { type: 'SOURCE_IP' },
      monitor: { type: 'HTTP', delay: 2, timeout: 1, rise: 2, fall: 3, method: 'GET', path: '/health', codes: '200-202', enabled: true },
      members: [
        { id: 'm1', address: '192.168.10.11', port: 8080, weight: 3, backup: false, enabled: true },
        { id: 'm2', address: '192.168.10.12', port: 8080, weight: 1, backup: true, enabled: false },
      ],
    },
  ],
};

test('a listener, its pool, monitor and members render as HAProxy sections', () => {
  const text = renderConfig(base);
  assert.match(text, /stats socket \/run\/lb\/stats.sock mode 600 level admin expose-fd listeners/);
  assert.match(text, /frontend l1\n    mode http\n    bind 192\.168\.10\.50:80\n/);
  assert.match(text, /default_backend p1:l1\n/);
  assert.match(text, /backend p1:l1\n    mode http\n    balance source\n/);
  assert.match(text, /stick on src/);
  assert.match(text, /option httpchk GET \/health\n    http-check expect rstatus \^\(200\|201\|202\)\$/);
  assert.match(text, /server m1 192\.168\.10\.11:8080 weight 3 check inter 2s fall 3 rise 2\n/);
  assert.match(text, /server m2 192\.168\.10\.12:8080 weight 1 check inter 2s fall 3 rise 2 backup disabled\n/);
  assert.doesNotMatch(text, /external-check/);
});

test('an HTTPS monitor asks its HTTP question over TLS without checking the certificate; TLS-HELLO only says hello', () => {
  const withMonitor = (type: 'HTTPS' | 'TLS-HELLO') => renderConfig({ ...base, pools: base.pools.map((p) => ({ ...p, monitor: { ...p.monitor!, type } })) });
  const https = withMonitor('HTTPS');
  assert.match(https, /option httpchk GET \/health\n/);
  assert.match(https, /server m1 192\.168\.10\.11:8080 weight 3 check inter 2s fall 3 rise 2 check-ssl verify none\n/);
  const hello = withMonitor('TLS-HELLO');
  assert.match(hello, /option ssl-hello-chk\n/);
  assert.doesNotMatch(hello, /httpchk|check-ssl/);
});

test('a TCP listener balances in tcp mode, PING runs the external check, no monitor means no check', () => {
  const tcp = renderConfig({
    ...base,
    listeners: [{ ...base.listeners[0]!, protocol: 'TCP', connectionLimit: 100 }],
    pools: [{ ...base.pools[0]!, algorithm: 'LEAST_CONNECTIONS', persistence: undefined, monitor: { ...base.pools[0]!.monitor!, type: 'PING' } }],
  });
  assert.match(tcp, /frontend l1\n    mode tcp\n.*\n    maxconn 100\n/);
  assert.match(tcp, /balance leastconn/);
  assert.match(tcp, /external-check\n    insecure-fork-wanted/);
  assert.match(tcp, /external-check command \/run\/lb\/ping.sh/);
  const plain = renderConfig({ ...base, pools: [{ ...base.pools[0]!, monitor: undefined }] });
  assert.match(plain, /server m1 192\.168\.10\.11:8080 weight 3\n/);
  assert.equal(codesRegex('200,204'), '^(200|204)$');
});

/** HAProxy's own check of a configuration (`haproxy -c`), which the agent runs before any reload. */
function haproxyAccepts(text: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'nubo-haproxy-cfg-'));
  try {
    writeFileSync(join(dir, 'haproxy.cfg'), text);
    execFileSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('L7 policies render in position order as first-match choices, each action acting on its own choice', () => {
  const pools = [base.pools[0]!, { ...base.pools[0]!, id: 'p2', persistence: undefined, members: [{ ...base.pools[0]!.members[0]!, id: 'm3' }] }];
  const rule = (type: string, compare: string, value: string, extra: object = {}) => ({ type, compare, value, invert: false, ...extra }) as LbConfig['listeners'][number]['l7policies'][number]['rules'][number];
  const text = renderConfig({
    ...base,
    pools,
    listeners: [
      {
        ...base.listeners[0]!,
        l7policies: [
          { id: 'a', action: 'REDIRECT_TO_POOL', poolId: 'p2', rules: [rule('PATH', 'STARTS_WITH', '/api'), rule('HEADER', 'EQUAL_TO', 'yes', { key: 'X-Beta', invert: true })] },
          { id: 'b', action: 'REJECT', rules: [rule('HOST_NAME', 'ENDS_WITH', '.bad.example')] },
          { id: 'c', action: 'REDIRECT_TO_URL', url: 'https://example.com/moved', code: 301, rules: [rule('COOKIE', 'REGEX', '^old-', { key: 'v' })] },
          { id: 'd', action: 'REDIRECT_PREFIX', prefix: 'https://new.example/', rules: [rule('FILE_TYPE', 'EQUAL_TO', 'php'), rule('PATH', 'CONTAINS', 'x')] },
        ],
      },
    ],
  });
  assert.match(text, /http-request set-var\(txn.l7\) str\(a\) if !\{ var\(txn.l7\) -m found \} \{ path -m beg '\/api' \} !\{ req.hdr\(X-Beta\) -m str 'yes' \}\n/);
  assert.match(text, /str\(b\) if !\{ var\(txn.l7\) -m found \} \{ req.hdr\(host\),field\(1,:\) -i -m end '.bad.example' \}\n/);
  assert.match(text, /str\(c\) if .* \{ req.cook\(v\) -m reg '\^old-' \}\n/);
  assert.match(text, /str\(d\) if .* \{ path -m end '.php' \} \{ path -m sub 'x' \}\n/);
  // The choices come before the actions, in position order.
  assert.ok(text.indexOf('str(a)') < text.indexOf('str(b)') && text.indexOf('str(d)') < text.indexOf('http-request deny'));
  assert.match(text, /use_backend p2:l1 if \{ var\(txn.l7\) -m str a \}\n/);
  assert.match(text, /http-request deny if \{ var\(txn.l7\) -m str b \}\n/);
  assert.match(text, /http-request redirect location 'https:\/\/example.com\/moved' code 301 if \{ var\(txn.l7\) -m str c \}\n/);
  assert.match(text, /http-request redirect prefix 'https:\/\/new.example' code 302 if/);
  assert.match(text, /default_backend p1:l1\n/);
  assert.match(text, /backend p2:l1\n/, 'the redirect pool has a backend of its own under the listener');
  haproxyAccepts(text);
});

test('session persistence: source address, an inserted cookie naming the member, or the application cookie learnt', () => {
  const withPersistence = (persistence: LbConfig['pools'][number]['persistence'], protocol: 'HTTP' | 'TCP' = 'HTTP') =>
    renderConfig({ ...base, listeners: [{ ...base.listeners[0]!, protocol }], pools: [{ ...base.pools[0]!, algorithm: 'ROUND_ROBIN', persistence }] });
  const cookie = withPersistence({ type: 'HTTP_COOKIE' });
  assert.match(cookie, /cookie SRV insert indirect nocache\n/);
  assert.match(cookie, /server m1 192\.168\.10\.11:8080 weight 3 cookie m1 check/);
  haproxyAccepts(cookie);
  const app = withPersistence({ type: 'APP_COOKIE', cookie_name: 'JSESSIONID' });
  assert.match(app, /stick store-response res.cook\(JSESSIONID\)\n    stick match req.cook\(JSESSIONID\)\n/);
  haproxyAccepts(app);
  // A cookie cannot be read in tcp mode: a TCP listener balances without it.
  assert.doesNotMatch(withPersistence({ type: 'HTTP_COOKIE' }, 'TCP'), /cookie/);
  haproxyAccepts(withPersistence({ type: 'SOURCE_IP' }));
});

test("HAProxy's report becomes Octavia's operating statuses", () => {
  assert.equal(memberStatus('UP'), 'ONLINE');
  assert.equal(memberStatus('UP 1/3'), 'ONLINE');
  assert.equal(memberStatus('DOWN 1/2'), 'ERROR');
  assert.equal(memberStatus('no check'), 'NO_MONITOR');
  assert.equal(memberStatus('MAINT'), 'OFFLINE');
  const rows = parseStats(
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n' +
      'l1,FRONTEND,,,1,2,,7,100,200,0,0,0,,,,,OPEN\n' +
      'p1:l1,m1,0,0,0,1,,4,50,90,,0,,0,0,0,0,UP\n' +
      'p1:l1,m2,0,0,0,1,,3,50,90,,0,,0,0,0,0,DOWN\n',
  );
  assert.equal(rows[0]!.stot, 7);
  const at = new Date();
  const row = (id: string, extra: object) => ({ id, adminStateUp: true, operatingStatus: 'OFFLINE', provisioningStatus: 'ACTIVE', createdAt: at, ...extra });
  const children = {
    listeners: [row('l1', { defaultPoolId: 'p1' })],
    pools: [row('p1', {})],
    members: [row('m1', { poolId: 'p1' }), row('m2', { poolId: 'p1' })],
    monitors: [],
    l7policies: [],
    l7rules: [],
  } as unknown as Parameters<typeof healthOf>[1];
  const h = healthOf(true, children, rows);
  assert.deepEqual([h.members.get('m1'), h.members.get('m2'), h.pools.get('p1'), h.listeners.get('l1'), h.loadBalancer], ['ONLINE', 'ERROR', 'DEGRADED', 'DEGRADED', 'DEGRADED']);
  assert.equal(healthOf(true, children, undefined).loadBalancer, 'ERROR');
});
