import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { makeProject } from '../image/helpers.ts';
import { assertSchema, nullable, obj, str } from '../helpers/schema.ts';
import { computeOf, rawImage } from './helpers.ts';

// os-interface, /servers/{id}/ips and os-virtual-interfaces on the fake driver: what the API
// answers at each microversion, and what attach and detach do to the ports and the server's
// addresses.
// test/compute/interface-hotplug.test.ts does it to a real guest.
let c: TestCloud;
let alice: ReturnType<typeof computeOf> & { token: string };
let bob: ReturnType<typeof computeOf>;
let image: string;
let tiny: string;

const net = async (method: string, path: string, body?: unknown) => c.request(method, `/networking/v2.0${path}`, { token: alice.token, body });
/** A GET of alice's at a microversion. */
const getAt = (version: string, path: string) =>
  c.request('GET', `/compute/v2.1${path}`, { token: alice.token, headers: { 'openstack-api-version': `compute ${version}` } });

const Attachment = (tag: boolean) =>
  obj({
    fixed_ips: { type: 'array', items: obj({ subnet_id: str, ip_address: str }) },
    mac_addr: str,
    net_id: str,
    port_id: str,
    port_state: str,
    ...(tag ? { tag: nullable(str) } : {}),
  });

before(async () => {
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const token = await c.adminToken();
  const admin = computeOf(c, token);
  const a = await makeProject(c, token, 'alice');
  alice = { ...computeOf(c, a.token), token: a.token };
  bob = computeOf(c, (await makeProject(c, token, 'bob')).token);
  image = await rawImage(c, token);
  tiny = await admin.flavor('tiny', 128, 1);
});
after(() => c?.stop());

/** A network with one subnet of alice's. */
async function network(name: string, cidr: string) {
  const n = (await net('POST', '/networks', { network: { name } })).body.network;
  const s = (await net('POST', '/subnets', { subnet: { network_id: n.id, cidr, ip_version: 4 } })).body.subnet;
  return { id: n.id as string, subnet: s.id as string };
}

test('attach by port and by network, list, show, detach: the ports and addresses follow; refusals', async () => {
  const first = await network('first', '10.1.0.0/24');
  const second = await network('second', '10.2.0.0/24');
  const id = await alice.create({ name: 'if', imageRef: image, flavorRef: tiny, networks: [{ uuid: first.id }] });
  await alice.settled(id, 'ACTIVE');

  const list = await alice.call('GET', `/servers/${id}/os-interface`);
  assert.equal(list.status, 200);
  assertSchema(obj({ interfaceAttachments: { type: 'array', items: Attachment(false) } }), list.body);
  assert.equal(list.body.interfaceAttachments.length, 1);
  assert.equal(list.body.interfaceAttachments[0].net_id, first.id);

  // A port the user made: taken over, kept at detach.
  const port = (await net('POST', '/ports', { port: { network_id: second.id } })).body.port;
  const attached = await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal(attached.status, 200, JSON.stringify(attached.body));
  assertSchema(obj({ interfaceAttachment: Attachment(false) }), attached.body);
  assert.equal(attached.body.interfaceAttachment.port_id, port.id);
  assert.equal(attached.body.interfaceAttachment.mac_addr, port.mac_address);
  assert.equal(attached.body.interfaceAttachment.fixed_ips[0].subnet_id, second.subnet);
  const shown = await getAt('2.70', `/servers/${id}/os-interface/${port.id}`);
  assertSchema(obj({ interfaceAttachment: Attachment(true) }), shown.body);
  await alice.until(id, (s) => Object.keys(s.addresses).sort().join() === 'first,second');
  assert.equal((await net('GET', `/ports/${port.id}`)).body.port.device_id, id);

  // One more on a network, with the address asked for: made for the server, deleted at detach.
  const made = await alice.call('POST', `/servers/${id}/os-interface`, {
    interfaceAttachment: { net_id: second.id, fixed_ips: [{ ip_address: '10.2.0.77' }] },
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(made.body.interfaceAttachment.fixed_ips[0].ip_address, '10.2.0.77');
  const ips = await alice.call('GET', `/servers/${id}/ips`);
  assertSchema(obj({ addresses: { type: 'object', additionalProperties: { type: 'array', items: obj({ version: { enum: [4, 6] }, addr: str }) } } }), ips.body);
  assert.deepEqual(
    ips.body.addresses.second.map((a: { addr: string }) => a.addr).sort(),
    [attached.body.interfaceAttachment.fixed_ips[0].ip_address, '10.2.0.77'].sort(),
  );
  const one = await alice.call('GET', `/servers/${id}/ips/first`);
  assert.deepEqual(Object.keys(one.body), ['first']);
  assert.equal((await alice.call('GET', `/servers/${id}/ips/nowhere`)).status, 404);

  // os-virtual-interfaces: one per port, net_id from 2.12, gone at 2.44.
  const vifs = await alice.call('GET', `/servers/${id}/os-virtual-interfaces`);
  assertSchema(obj({ virtual_interfaces: { type: 'array', items: obj({ id: str, mac_address: str }) } }), vifs.body);
  assert.equal(vifs.body.virtual_interfaces.length, 3);
  const vifs212 = await getAt('2.12', `/servers/${id}/os-virtual-interfaces`);
  assertSchema(obj({ virtual_interfaces: { type: 'array', items: obj({ id: str, mac_address: str, net_id: str }) } }), vifs212.body);
  assert.equal((await getAt('2.44', `/servers/${id}/os-virtual-interfaces`)).status, 404);

  // Refusals, as Nova words them.
  const both = await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id, net_id: second.id } });
  assert.equal(both.status, 400);
  const ipOnly = await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { fixed_ips: [{ ip_address: '10.2.0.9' }] } });
  assert.equal(ipOnly.status, 400);
  assert.equal((await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id } })).status, 409, 'a port in use');
  assert.equal(
    (await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { net_id: second.id, tag: 'x' } })).status,
    400,
    'no tag before 2.49',
  );
  assert.equal((await bob.call('GET', `/servers/${id}/os-interface`)).status, 404, 'another project sees no server');

  // Detach both: the given port is unbound and kept, the made one is gone.
  assert.equal((await alice.call('DELETE', `/servers/${id}/os-interface/${port.id}`)).status, 202);
  assert.equal((await alice.call('DELETE', `/servers/${id}/os-interface/${made.body.interfaceAttachment.port_id}`)).status, 202);
  assert.equal((await net('GET', `/ports/${port.id}`)).body.port.device_id, '');
  assert.equal((await net('GET', `/ports/${made.body.interfaceAttachment.port_id}`)).status, 404);
  await alice.until(id, (s) => Object.keys(s.addresses).join() === 'first');
  assert.equal((await alice.call('GET', `/servers/${id}/os-interface/${port.id}`)).status, 404);
  assert.equal((await alice.call('DELETE', `/servers/${id}/os-interface/${port.id}`)).status, 404);

  // Each attach and detach is an instance action of its caller.
  const actions = (await alice.call('GET', `/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: { action: string }) => a.action);
  assert.equal(actions.filter((a: string) => a === 'attach_interface').length, 2);
  assert.equal(actions.filter((a: string) => a === 'detach_interface').length, 2);

  // Given again, then the server deleted: the port survives it.
  await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal((await alice.call('DELETE', `/servers/${id}`)).status, 204);
  await alice.gone(id);
  assert.equal((await net('GET', `/ports/${port.id}`)).body.port.device_id, '');
});

test('a stopped server takes an interface too; a server being built does not', async () => {
  const third = await network('third', '10.3.0.0/24');
  const id = await alice.create({ name: 'stopped', imageRef: image, flavorRef: tiny, networks: [{ uuid: third.id }] });
  await alice.settled(id, 'ACTIVE');
  await alice.action(id, { 'os-stop': null });
  await alice.settled(id, 'SHUTOFF');
  const r = await alice.call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { net_id: third.id } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await alice.call('GET', `/servers/${id}/os-interface`)).body.interfaceAttachments.length, 2);
  const building = await alice.create({ name: 'building', imageRef: image, flavorRef: tiny, networks: [{ uuid: third.id }] });
  const early = await alice.call('POST', `/servers/${building}/os-interface`, { interfaceAttachment: { net_id: third.id } });
  assert.equal(early.status, 409);
});
