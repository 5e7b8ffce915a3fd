import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGuestCloudOnCeph, type GuestCloud } from '../helpers/guest-cloud.ts';

// The collector with the real test guest, polled every second: a busy loop inside the guest shows
// as a rising rate:mean of its cpu (ns of the qemu process's CPU time), bytes the guest sends over
// ssh show in its port's network.outgoing.bytes (its tap's counters), Prometheus gets the same
// meters, what it writes to a volume shows in the volume's own counters, and a deleted server's
// resource ends.
let c: GuestCloud;
let server: string;
let ssh: (command: string) => Promise<string>;

type Row = { timestamp: string; granularity: number; value: number };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  c = await startGuestCloudOnCeph('tm', { NUBO_TELEMETRY_INTERVAL: '1' });
  server = (await c.json('server', 'create', '--flavor', 'm1.nano', '--image', 'nubo-guest', '--network', 'private-net', '--key-name', 'mykey', 'vm1')).id;
  await c.until('vm1 ACTIVE', async () => (await c.json('server', 'show', server)).status === 'ACTIVE', 300_000);
  await c.consoleUntil('vm1', /nubo-guest ready: .*keys=1/);
  ssh = await c.reach('vm1');
  await c.until('ssh into vm1', async () => (await ssh('hostname')) === 'vm1', 90_000);
});
after(() => c?.stop());

/** The rate:mean of the server's cpu per second since `since`, as the openstack CLI shows it. */
const cpuRates = async (since: Date) =>
  ((await c.json('metric', 'measures', 'show', '--resource-id', server, 'cpu', '--aggregation', 'rate:mean', '--granularity', '1', '--start', since.toISOString(), '--utc')) as Row[]).map((r) => r.value);

test('a busy loop in the guest raises the rate of its cpu; bytes it sends grow its port’s network.outgoing.bytes', async () => {
  const instance = await c.json('metric', 'resource', 'show', '--type', 'instance', server);
  assert.equal(instance.display_name, 'vm1');
  assert.deepEqual(Object.keys(instance.metrics).sort(), ['cpu', 'memory', 'memory.resident', 'memory.usage', 'vcpus']);
  const vcpus = (await c.json('metric', 'measures', 'show', '--resource-id', server, 'vcpus', '--granularity', '1')) as Row[];
  assert.equal(vcpus.at(-1)!.value, 1);

  // Idle: what the guest's process uses while it waits.
  const idleStart = new Date();
  await sleep(6000);
  const idle = await cpuRates(idleStart);
  assert.ok(idle.length >= 3, `a rate each second (${idle.length})`);
  const idleMean = idle.reduce((a, b) => a + b, 0) / idle.length;

  const loadStart = new Date();
  await ssh('timeout 8 sh -c "while :; do :; done"; true');
  await sleep(1500);
  const load = await cpuRates(loadStart);
  const loadMax = Math.max(...load);
  // A vCPU that spins keeps qemu's thread busy for most of each second; an idle one does not.
  assert.ok(loadMax > 0.5e9, `busy: ${loadMax} ns per second (idle ${idleMean})`);
  assert.ok(loadMax > 2 * idleMean, `busy ${loadMax} vs idle ${idleMean}`);

  const [nic] = await c.json('metric', 'resource', 'search', '--type', 'instance_network_interface', `instance_id=${server}`);
  assert.ok(nic, 'the port has its resource');
  const outgoing = async () => {
    const rows = (await c.json('metric', 'measures', 'show', '--resource-id', nic.id, 'network.outgoing.bytes', '--aggregation', 'last', '--granularity', '1').catch(async () =>
      c.json('metric', 'measures', 'show', '--resource-id', nic.id, 'network.outgoing.bytes', '--granularity', '1'),
    )) as Row[];
    return rows.at(-1)!.value;
  };
  const before = await outgoing();
  // The guest sends them to the test over ssh, through its port (under the helper's 1 MiB of output).
  const sent = 900_000;
  const echoed = await ssh(`head -c ${sent} /dev/zero`);
  assert.equal(echoed.length, sent);
  await sleep(2500);
  const grown = (await outgoing()) - before;
  assert.ok(grown >= sent, `network.outgoing.bytes grew by ${grown}, at least the ${sent} bytes sent`);

  const token = await c.cloud.adminToken();
  const prom = await fetch(`${c.cloud.url}/metrics`, { headers: { 'x-auth-token': token } });
  assert.equal(prom.status, 200);
  const text = await prom.text();
  assert.match(text, new RegExp(`^nubo_cpu_total\\{project_id="[0-9a-f]+",server_id="${server}",resource_id="${server}"\\} \\d+`, 'm'));
  assert.match(text, new RegExp(`^nubo_network_outgoing_bytes_total\\{[^}]*server_id="${server}",port_id="[0-9a-f-]+",device="tap[^"]+"`, 'm'));
  assert.match(text, /^# TYPE nubo_memory_resident gauge$/m);
});

test('what the guest writes to a volume grows the volume’s disk.device.write.bytes; its size is metered', async () => {
  const volume = (await c.json('volume', 'create', '--size', '1', 'vol1')).id;
  await c.until('vol1 available', async () => (await c.json('volume', 'show', volume)).status === 'available', 120_000);
  await c.cli('server', 'add', 'volume', server, volume);
  await c.until('vol1 in-use', async () => (await c.json('volume', 'show', volume)).status === 'in-use', 120_000);
  await c.until('the guest sees /dev/vdb', async () => (await ssh('test -e /dev/vdb && echo yes || echo no')) === 'yes', 60_000);
  // The controller's collector writes the attachment at its next round.
  await c.until('the volume resource names its server', async () => (await c.json('metric', 'resource', 'show', '--type', 'volume', volume)).instance_id === server, 30_000);
  assert.equal((await c.json('metric', 'resource', 'show', '--type', 'volume', volume)).display_name, 'vol1');
  const last = async (metric: string) => ((await c.json('metric', 'measures', 'show', '--resource-id', volume, metric, '--granularity', '1')) as Row[]).at(-1)?.value ?? 0;
  assert.equal(await last('volume.size'), 1);
  await c.until('the volume’s counters metered', async () => (await c.json('metric', 'resource', 'show', '--type', 'volume', volume)).metrics['disk.device.write.bytes'] !== undefined, 30_000);
  const before = await last('disk.device.write.bytes');
  const written = 2 * 1024 * 1024;
  await ssh(`dd if=/dev/urandom of=/dev/vdb bs=65536 count=${written / 65536} conv=fsync 2>/dev/null; echo done`);
  await c.until('the writes counted', async () => (await last('disk.device.write.bytes')) - before >= written, 30_000);
});

test('a deleted server’s resources end', async () => {
  await c.cli('server', 'delete', server);
  await c.until('the instance resource ended', async () => (await c.json('metric', 'resource', 'show', '--type', 'instance', server)).ended_at !== null, 120_000);
  const nics = await c.json('metric', 'resource', 'search', '--type', 'instance_network_interface', `instance_id=${server}`);
  assert.ok(nics.length > 0 && nics.every((n: { ended_at: string | null }) => n.ended_at !== null));
});
