import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codesRegex, renderConfig, type LbConfig } from '../../src/loadbalancer/haproxy/config.ts';
import { healthOf, memberStatus } from '../../src/loadbalancer/agent/health.ts';
import { parseStats } from '../../src/loadbalancer/haproxy/stats.ts';

// The pure parts of the data plane: the configuration rendered from records, and HAProxy's
// report read back into Octavia's operating statuses.

const base: LbConfig = {
  vipAddress: '192.168.10.50',
  statsSocket: '/run/lb/stats.sock',
  pingScript: '/run/lb/ping.sh',
  listeners: [{ id: 'l1', protocol: 'HTTP', port: 80, enabled: true, connectionLimit: -1, timeoutClientData: 50000, timeoutMemberConnect: 5000, timeoutMemberData: 50000, defaultPoolId: 'p1' }],
  pools: [
    {
      id: 'p1',
      enabled: true,
      algorithm: 'SOURCE_IP',
      sourceIpPersistence: true,
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

test('a TCP listener balances in tcp mode, PING runs the external check, no monitor means no check', () => {
  const tcp = renderConfig({
    ...base,
    listeners: [{ ...base.listeners[0]!, protocol: 'TCP', connectionLimit: 100 }],
    pools: [{ ...base.pools[0]!, algorithm: 'LEAST_CONNECTIONS', sourceIpPersistence: false, monitor: { ...base.pools[0]!.monitor!, type: 'PING' } }],
  });
  assert.match(tcp, /frontend l1\n    mode tcp\n.*\n    maxconn 100\n/);
  assert.match(tcp, /balance leastconn/);
  assert.match(tcp, /external-check\n    insecure-fork-wanted/);
  assert.match(tcp, /external-check command \/run\/lb\/ping.sh/);
  const plain = renderConfig({ ...base, pools: [{ ...base.pools[0]!, monitor: undefined }] });
  assert.match(plain, /server m1 192\.168\.10\.11:8080 weight 3\n/);
  assert.equal(codesRegex('200,204'), '^(200|204)$');
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
  } as unknown as Parameters<typeof healthOf>[1];
  const h = healthOf(true, children, rows);
  assert.deepEqual([h.members.get('m1'), h.members.get('m2'), h.pools.get('p1'), h.listeners.get('l1'), h.loadBalancer], ['ONLINE', 'ERROR', 'DEGRADED', 'DEGRADED', 'DEGRADED']);
  assert.equal(healthOf(true, children, undefined).loadBalancer, 'ERROR');
});
