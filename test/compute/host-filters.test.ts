import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterHosts, weigh, type Candidate, type Request } from '../../src/compute/host-filters.ts';

// The scheduler's filters and weighers on hosts described by hand.
const host = (name: string, o: Partial<Candidate> = {}): Candidate => ({
  name,
  enabled: true,
  up: true,
  zone: 'nova',
  arch: 'x86_64',
  free: { vcpus: 8, ram: 8192, disk: 100 },
  aggregateMetadata: new Map(),
  members: 0,
  ...o,
});
const flavor = { id: 'f', name: 'f', ram: 1024, vcpus: 2, disk: 10, ephemeral: 0, swap: 0, extraSpecs: {} };
const req = (o: Partial<Request> = {}): Request => ({ zone: null, flavor, ...o });

test('each filter names the hosts it refused', () => {
  const hosts = [
    host('down', { up: false }),
    host('disabled', { enabled: false }),
    host('elsewhere', { zone: 'az2' }),
    host('full', { free: { vcpus: 8, ram: 512, disk: 100 } }),
    host('busy', { free: { vcpus: 1, ram: 8192, disk: 100 } }),
    host('arm', { arch: 'aarch64' }),
    host('ok'),
  ];
  const { passed, refused } = filterHosts(hosts, req({ zone: 'nova', arch: 'amd64' }));
  assert.deepEqual(
    passed.map((h) => h.name),
    ['ok'],
  );
  assert.deepEqual(refused, {
    ComputeFilter: ['down', 'disabled'],
    AvailabilityZoneFilter: ['elsewhere'],
    RamFilter: ['full'],
    CoreFilter: ['busy'],
    ImagePropertiesFilter: ['arm'],
  });
});

test("a flavor's aggregate extra specs (scoped, or unscoped) need a host whose aggregates give one of the values", () => {
  const ssd = host('ssd', { aggregateMetadata: new Map([['disk', new Set(['ssd', 'nvme'])]]) });
  const hdd = host('hdd', { aggregateMetadata: new Map([['disk', new Set(['hdd'])]]) });
  const plain = host('plain');
  const ask = (extraSpecs: Record<string, string>) => filterHosts([ssd, hdd, plain], req({ flavor: { ...flavor, extraSpecs } })).passed.map((h) => h.name);
  assert.deepEqual(ask({ 'aggregate_instance_extra_specs:disk': 'nvme' }), ['ssd']);
  assert.deepEqual(ask({ disk: 'hdd,ssd' }), ['ssd', 'hdd']);
  // Other scopes (hw:, quota:) are not the aggregates' business.
  assert.deepEqual(ask({ 'hw:cpu_policy': 'dedicated' }), ['ssd', 'hdd', 'plain']);
});

test('server groups: affinity follows the first member, anti-affinity keeps max_server_per_host', () => {
  const hosts = [host('a', { members: 2 }), host('b', { members: 1 }), host('c')];
  const names = (r: Request) => filterHosts(hosts, r).passed.map((h) => h.name);
  assert.deepEqual(names(req({ group: { policy: 'affinity', maxPerHost: 1, placed: 3 } })), ['a', 'b']);
  assert.deepEqual(names(req({ group: { policy: 'affinity', maxPerHost: 1, placed: 0 } })), ['a', 'b', 'c']);
  assert.deepEqual(names(req({ group: { policy: 'anti-affinity', maxPerHost: 1, placed: 3 } })), ['c']);
  assert.deepEqual(names(req({ group: { policy: 'anti-affinity', maxPerHost: 2, placed: 3 } })), ['b', 'c']);
});

test('spread picks the emptiest host, stack the fullest; a soft group policy outweighs both', () => {
  const hosts = [host('empty'), host('half', { free: { vcpus: 4, ram: 4096, disk: 100 }, members: 1 }), host('nearly', { free: { vcpus: 2, ram: 1024, disk: 100 } })];
  assert.equal(weigh(hosts, req(), 'spread')[0]!.name, 'empty');
  assert.equal(weigh(hosts, req(), 'stack')[0]!.name, 'nearly');
  assert.equal(weigh(hosts, req({ group: { policy: 'soft-affinity', maxPerHost: 1, placed: 1 } }), 'spread')[0]!.name, 'half');
  assert.notEqual(weigh(hosts, req({ group: { policy: 'soft-anti-affinity', maxPerHost: 1, placed: 1 } }), 'stack')[0]!.name, 'half');
  // Equal hosts: the name decides, the same on every controller.
  assert.deepEqual(
    weigh([host('b'), host('a')], req(), 'spread').map((w) => w.name),
    ['a', 'b'],
  );
});
