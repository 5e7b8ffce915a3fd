import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { eventually } from '../helpers/netns.ts';
import { makeProject } from '../image/helpers.ts';
import { computeOf, rawImage } from '../compute/helpers.ts';
import { neutronOf } from '../network/client.ts';

// The dashboard's pages beyond the topology, in Debian's Chromium against a cloud on the fake
// compute driver: security groups and their rules, key pairs (the private key downloaded once,
// a public key imported), an image's metadata and visibility, a server's page (snapshot, console
// log followed, floating IP), networks, subnets, routers and floating IPs made and removed, the
// admin's role assignments. Each change made in the page is checked through the API; a member
// sees nothing of another project, and forms refuse bad input before anything is sent.
const run = promisify(execFile);
let c: TestCloud;
let browser: Browser;
let demo: { id: string; token: string };
let other: { id: string; token: string };
let pubId: string;
let web1: string;
let work: string;

before(async () => {
  work = tempDir('nubo-dashboard-pages-');
  c = await startTestCloud({ computeDriver: 'fake', vifPluggingTimeout: 10 });
  const admin = await c.adminToken();
  const net = neutronOf(c, admin);
  const pub = (
    await net.ok('POST', '/networks', {
      network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
    })
  ).network;
  pubId = pub.id;
  await net.ok('POST', '/subnets', { subnet: { network_id: pub.id, cidr: '172.24.4.0/24', ip_version: 4, enable_dhcp: false, gateway_ip: '172.24.4.1' } });
  const image = await rawImage(c, admin, 1 << 20, { name: 'cirros-like', visibility: 'public' });
  const tiny = await computeOf(c, admin).flavor('tiny', 128, 1);
  demo = await makeProject(c, admin, 'demo');
  other = await makeProject(c, admin, 'other');

  const d = neutronOf(c, demo.token);
  const webNet = (await d.ok('POST', '/networks', { network: { name: 'web-net' } })).network.id;
  const subnet = (await d.ok('POST', '/subnets', { subnet: { name: 'web-subnet', network_id: webNet, cidr: '10.1.0.0/24', ip_version: 4 } })).subnet;
  const router = (await d.ok('POST', '/routers', { router: { name: 'edge', external_gateway_info: { network_id: pub.id } } })).router;
  await d.ok('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
  web1 = await computeOf(c, demo.token).create({ name: 'web-1', imageRef: image, flavorRef: tiny, networks: [{ uuid: webNet }] });
  await computeOf(c, demo.token).settled(web1, 'ACTIVE');
  await rawImage(c, demo.token, 1 << 20, { name: 'demo-img', visibility: 'private' });

  // The other project's resources, of every kind a page lists.
  const o = neutronOf(c, other.token);
  const onet = (await o.ok('POST', '/networks', { network: { name: 'other-net' } })).network.id;
  const osub = (await o.ok('POST', '/subnets', { subnet: { name: 'other-subnet', network_id: onet, cidr: '10.2.0.0/24', ip_version: 4 } })).subnet;
  const orouter = (await o.ok('POST', '/routers', { router: { name: 'other-router', external_gateway_info: { network_id: pub.id } } })).router;
  await o.ok('PUT', `/routers/${orouter.id}/add_router_interface`, { subnet_id: osub.id });
  await o.ok('POST', '/floatingips', { floatingip: { floating_network_id: pub.id, description: 'other' } });
  await o.ok('POST', '/security-groups', { security_group: { name: 'other-sg' } });
  await computeOf(c, other.token).create({ name: 'other-vm', imageRef: image, flavorRef: tiny, networks: [{ uuid: onet }] });
  await rawImage(c, other.token, 1 << 20, { name: 'other-img', visibility: 'private' });
  const otherToken = await c.login('other-user', 'pw', 'other');
  const kp = await c.request('POST', '/compute/v2.1/os-keypairs', { token: otherToken, body: { keypair: { name: 'other-key' } } });
  assert.equal(kp.status, 200, JSON.stringify(kp.body));

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await c?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const shots = process.env.NUBO_DOCS_SCREENSHOTS === '1' ? new URL('../../docs/images/', import.meta.url).pathname : undefined;

async function logIn(user: string, password: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('dialog', (d) => d.accept());
  await page.goto(`${c.url}/login`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}

const open = async (page: Page, view: string) => {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: view }).waitFor();
  await page.locator('.list[aria-busy="false"]').waitFor();
};
const said = (page: Page, text: string | RegExp) => page.getByRole('status').getByText(text).waitFor();
const alert = (page: Page, text: string | RegExp) => page.getByRole('alert').filter({ hasText: text }).waitFor();
const cell = (page: Page, name: string) => page.getByRole('cell', { name, exact: true });
const api = async (token: string, path: string) => {
  const res = await c.request('GET', path, { token });
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
  return res.body;
};

test('a wrong password is said so; a member sees none of another project and not the admin views', async () => {
  const wrong = await logIn('demo-user', 'not-the-password');
  await alert(wrong, 'The user name, password or domain is wrong.');
  assert.match(wrong.url(), /\/login$/);
  await wrong.close();

  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  const views: [string, string, string][] = [
    ['Servers', 'web-1', 'other-vm'],
    ['Images', 'demo-img', 'other-img'],
    ['Networks', 'web-net', 'other-net'],
    ['Subnets', 'web-subnet', 'other-subnet'],
    ['Routers', 'edge', 'other-router'],
    ['Security groups', 'default', 'other-sg'],
  ];
  for (const [view, mine, theirs] of views) {
    await open(page, view);
    await cell(page, mine).waitFor();
    assert.equal(await page.getByText(theirs).count(), 0, `${view} shows ${theirs}`);
  }
  await open(page, 'Floating IPs');
  assert.equal(await page.locator('td.empty').count(), 1, "the other project's floating IP is not listed");
  await open(page, 'Key pairs');
  assert.equal(await page.getByText('other-key').count(), 0);
  assert.equal(await page.getByRole('navigation', { name: 'Admin' }).count(), 0);
  for (const view of ['flavors', 'projects', 'users', 'role-assignments', 'hypervisors']) {
    await page.goto(`${c.url}/${view}`);
    await alert(page, 'This view is for administrators.');
    assert.equal(await page.locator('table').count(), 0, `${view} lists nothing to a member`);
  }
  // Hidden is not the only guard: the APIs refuse a member's token the admin's changes.
  const refused: [string, string, unknown][] = [
    ['POST', '/compute/v2.1/flavors', { flavor: { name: 'mine', vcpus: 1, ram: 64, disk: 1 } }],
    ['POST', '/identity/v3/projects', { project: { name: 'mine' } }],
    ['POST', '/identity/v3/users', { user: { name: 'mine', password: 'pw' } }],
  ];
  for (const [method, path, body] of refused) {
    assert.equal((await c.request(method, path, { token: demo.token, body })).status, 403, `${method} ${path} by a member`);
  }
  assert.equal((await c.request('GET', '/identity/v3/role_assignments', { token: demo.token })).status, 403);
  // A server of the other project, asked for by its id: Nova's own answer, in the page.
  const theirs = (await api(other.token, '/compute/v2.1/servers?name=other-vm')).servers[0].id;
  await page.goto(`${c.url}/servers/${theirs}`);
  await alert(page, /could not be found/);
  await page.close();
});

test('security groups: created, a rule checked before it is sent, added and deleted, the group deleted', async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Security groups');
  await page.getByText('Create a security group').click();
  const create = page.getByRole('form', { name: 'Create a security group' });
  await create.getByLabel('Name').fill('web');
  await create.getByLabel('Description').fill('HTTP from anywhere');
  await create.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Security group web is created.');
  await cell(page, 'web').waitFor();
  const group = (await api(demo.token, '/networking/v2.0/security-groups?name=web')).security_groups[0];
  assert.equal(group.description, 'HTTP from anywhere');

  await page.getByText('Add a rule').click();
  const rule = page.getByRole('form', { name: 'Add a rule' });
  await rule.getByLabel('Security group').selectOption({ label: 'web' });
  await rule.getByLabel('Port or range').fill('8080-80');
  await rule.getByLabel('Remote (CIDR)').fill('0.0.0.0/0');
  await rule.getByRole('button', { name: 'Add rule' }).click();
  const message = await rule.getByLabel('Port or range').evaluate((e: HTMLInputElement) => e.validationMessage);
  assert.equal(message, 'The first port of a range must not be above the last.');
  await rule.getByLabel('Remote (CIDR)').fill('everywhere');
  assert.equal(await rule.getByLabel('Remote (CIDR)').evaluate((e: HTMLInputElement) => e.checkValidity()), false);
  const rulesOf = async () => (await api(demo.token, `/networking/v2.0/security-group-rules?security_group_id=${group.id}`)).security_group_rules;
  const before = (await rulesOf()).length;
  await rule.getByLabel('Port or range').fill('80');
  await rule.getByLabel('Remote (CIDR)').fill('0.0.0.0/0');
  await rule.getByRole('button', { name: 'Add rule' }).click();
  await said(page, 'Rule ingress IPv4 tcp 80 from 0.0.0.0/0 is added.');
  const added = (await rulesOf()).filter((r: any) => r.direction === 'ingress');
  assert.equal((await rulesOf()).length, before + 1, 'only the valid rule was sent');
  assert.deepEqual([added[0].protocol, added[0].port_range_min, added[0].port_range_max, added[0].remote_ip_prefix], ['tcp', 80, 80, '0.0.0.0/0']);

  // The same rule again: Neutron's refusal, in its words.
  await rule.getByLabel('Security group').selectOption({ label: 'web' });
  await rule.getByLabel('Port or range').fill('80');
  await rule.getByLabel('Remote (CIDR)').fill('0.0.0.0/0');
  await rule.getByRole('button', { name: 'Add rule' }).click();
  await alert(page, /already exists/);

  await page.getByRole('button', { name: 'Delete rule ingress IPv4 tcp 80 from 0.0.0.0/0 of web' }).click();
  await said(page, /^Rule ingress IPv4 tcp 80 from 0\.0\.0\.0\/0 is deleted from web\.$/);
  assert.equal((await rulesOf()).length, before);
  await page.getByRole('button', { name: 'Delete security group web' }).click();
  await cell(page, 'web').waitFor({ state: 'detached' });
  assert.equal((await c.request('GET', `/networking/v2.0/security-groups/${group.id}`, { token: demo.token })).status, 404);
  await page.close();
});

test('key pairs: a new one downloads its private key once, a public key is imported, both deleted', async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Key pairs');
  await page.getByText('Create a key pair').click();
  const create = page.getByRole('form', { name: 'Create a key pair' });
  await create.getByLabel('Name').fill('ui-key');
  const downloading = page.waitForEvent('download');
  await create.getByRole('button', { name: 'Create' }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'ui-key.pem');
  const pem = join(work, 'ui-key.pem');
  await download.saveAs(pem);
  await said(page, 'Key pair ui-key is created; its private key is downloaded as ui-key.pem, and Nubo keeps no copy.');
  // The downloaded private key is the one whose public half Nova keeps.
  await run('chmod', ['600', pem]);
  const derived = (await run('ssh-keygen', ['-y', '-f', pem])).stdout.trim().split(' ').slice(0, 2).join(' ');
  const kept = (await api(demo.token, '/compute/v2.1/os-keypairs/ui-key')).keypair;
  assert.equal(kept.public_key.trim().split(' ').slice(0, 2).join(' '), derived);
  assert.equal(kept.private_key, undefined, 'Nova hands the private key out only at creation');
  assert.equal(await page.evaluate(() => document.body.innerText.includes('PRIVATE KEY')), false, 'the key is not left in the page');

  await page.getByText('Import a key pair').click();
  const imported = page.getByRole('form', { name: 'Import a key pair' });
  await imported.getByLabel('Name').fill('laptop');
  await imported.getByLabel('Public key').fill('not a key');
  await imported.getByRole('button', { name: 'Import' }).click();
  assert.match(await imported.getByLabel('Public key').evaluate((e: HTMLTextAreaElement) => e.validationMessage), /^An OpenSSH public key/);
  await run('ssh-keygen', ['-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', join(work, 'laptop'), '-q']);
  const pub = readFileSync(join(work, 'laptop.pub'), 'utf8').trim();
  await imported.getByLabel('Public key').fill(pub);
  await imported.getByRole('button', { name: 'Import' }).click();
  await said(page, 'Key pair laptop is imported.');
  assert.equal((await api(demo.token, '/compute/v2.1/os-keypairs/laptop')).keypair.public_key.trim(), pub);
  await cell(page, 'laptop').waitFor();

  for (const name of ['ui-key', 'laptop']) {
    await page.getByRole('button', { name: `Delete key pair ${name}` }).click();
    await cell(page, name).waitFor({ state: 'detached' });
    assert.equal((await c.request('GET', `/compute/v2.1/os-keypairs/${name}`, { token: demo.token })).status, 404);
  }
  await page.close();
});

test("an image's page: metadata and visibility edited, a refused visibility shown in Glance's words", async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Images');
  await page.getByRole('link', { name: 'demo-img' }).click();
  await page.getByRole('heading', { level: 1, name: 'Image demo-img' }).waitFor();
  const edit = page.getByRole('form', { name: 'Edit the image' });
  // Public images are the admin's to make.
  await edit.getByLabel('Visibility').selectOption('public');
  await edit.getByRole('button', { name: 'Save' }).click();
  await alert(page, /publicize_image|not allowed|forbidden/i);
  const id = (await api(demo.token, '/image/v2/images?name=demo-img')).images[0].id;
  assert.equal((await api(demo.token, `/image/v2/images/${id}`)).visibility, 'private');

  await edit.getByLabel('Properties, one key=value a line').fill('just words');
  await edit.getByRole('button', { name: 'Save' }).click();
  assert.equal(
    await edit.getByLabel('Properties, one key=value a line').evaluate((e: HTMLTextAreaElement) => e.validationMessage),
    '"just words" is not key=value.',
  );
  await edit.getByLabel('Name').fill('demo-image');
  await edit.getByLabel('Visibility').selectOption('community');
  await edit.getByLabel('Minimum disk (GB)').fill('2');
  await edit.getByLabel('Properties, one key=value a line').fill('os_distro=cirros\nhw_disk_bus = virtio');
  await edit.getByRole('button', { name: 'Save' }).click();
  await said(page, 'Image demo-image is saved.');
  const saved = await api(demo.token, `/image/v2/images/${id}`);
  assert.deepEqual([saved.name, saved.visibility, saved.min_disk, saved.os_distro, saved.hw_disk_bus], ['demo-image', 'community', 2, 'cirros', 'virtio']);
  await page.getByRole('heading', { level: 1, name: 'Image demo-image' }).waitFor();
  await page.getByText('os_distro = cirros').waitFor();

  // A property taken out of the list is removed from the image.
  await edit.getByLabel('Properties, one key=value a line').fill('os_distro=cirros');
  await edit.getByRole('button', { name: 'Save' }).click();
  await said(page, 'Image demo-image is saved.');
  await eventually('hw_disk_bus removed', async () => (await api(demo.token, `/image/v2/images/${id}`)).hw_disk_bus === undefined);
  await page.close();
});

test("a server's page: console log followed, snapshot taken, floating IP attached and detached", async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Servers');
  await page.getByRole('link', { name: 'web-1' }).click();
  await page.getByRole('heading', { level: 1, name: 'Server web-1' }).waitFor();
  await page.getByRole('button', { name: 'Follow the console log' }).click();
  const log = page.getByLabel('Console log');
  await log.getByText(/web-1: booted/).waitFor();
  assert.equal((await computeOf(c, demo.token).action(web1, { reboot: { type: 'HARD' } })).status, 202);
  await log.getByText(/web-1: reset/).waitFor({ timeout: 15_000 });
  await computeOf(c, demo.token).settled(web1, 'ACTIVE');

  const snap = page.getByRole('form', { name: 'Snapshot' });
  await snap.getByRole('button', { name: 'Take a snapshot' }).click();
  assert.equal(await snap.getByLabel('Snapshot name').evaluate((e: HTMLInputElement) => e.validity.valueMissing), true, 'a name is asked for first');
  await snap.getByLabel('Snapshot name').fill('web-1-snap');
  await snap.getByRole('button', { name: 'Take a snapshot' }).click();
  await said(page, 'Snapshot web-1-snap is being made; it shows in Images.');
  await eventually(
    'the snapshot active in Glance',
    async () => (await api(demo.token, '/image/v2/images?name=web-1-snap')).images[0]?.status === 'active',
    60_000,
  );

  const attach = page.getByRole('form', { name: 'Attach a floating IP' });
  await attach.getByLabel('Floating IP').selectOption({ label: 'a new one from public' });
  await attach.getByRole('button', { name: 'Attach' }).click();
  const address = (await page
    .getByRole('status')
    .getByText(/^Floating IP .* is attached to server web-1\.$/)
    .textContent())!.split(' ')[2]!;
  const fip = (await api(demo.token, `/networking/v2.0/floatingips?floating_ip_address=${address}`)).floatingips[0];
  const port = (await api(demo.token, `/networking/v2.0/ports?device_id=${web1}`)).ports[0];
  assert.equal(fip.port_id, port.id);
  await page.getByRole('list', { name: 'Attached floating IPs' }).getByText(address).waitFor();
  await page.getByRole('button', { name: `Detach floating IP ${address}` }).click();
  await said(page, `Floating IP ${address} is detached.`);
  assert.equal((await api(demo.token, `/networking/v2.0/floatingips/${fip.id}`)).floatingip.port_id, null);
  // The freed address is offered again, ahead of a new one.
  await attach.getByLabel('Floating IP').locator('option', { hasText: address }).waitFor({ state: 'attached' });

  // A power button reached by keyboard keeps its focus across the page's polls; the delete is
  // the page's own last section, named after the server, not a row's bare Delete.
  const reboot = page.getByRole('button', { name: 'Reboot server web-1' });
  await reboot.focus();
  await page.waitForTimeout(3500);
  assert.equal(await reboot.evaluate((e) => e === document.activeElement), true, 'the focus survives a poll');
  const deletes = page.getByRole('button', { name: /^Delete/ });
  assert.deepEqual(await deletes.evaluateAll((es) => es.map((e) => [e.getAttribute('aria-label'), e.textContent])), [['Delete server web-1', 'Delete this server']]);
  await page.close();
});

test('networks, subnets, routers and floating IPs: made, joined and removed from their pages', async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  const n = neutronOf(c, demo.token);
  await open(page, 'Networks');
  await page.getByText('Create a network').click();
  const create = page.getByRole('form', { name: 'Create a network' });
  await create.getByLabel('Name', { exact: true }).fill('ui-net');
  await create.getByLabel('Subnet name').fill('ui-subnet');
  await create.getByLabel('Subnet range (CIDR)').fill('10.9.0.0');
  await create.getByRole('button', { name: 'Create' }).click();
  assert.equal(await create.getByLabel('Subnet range (CIDR)').evaluate((e: HTMLInputElement) => e.validity.patternMismatch), true);
  assert.equal((await n.ok('GET', '/networks?name=ui-net')).networks.length, 0, 'nothing was sent');
  await create.getByLabel('Subnet range (CIDR)').fill('10.9.0.0/24');
  await create.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Network ui-net is created with subnet 10.9.0.0/24.');
  const net = (await n.ok('GET', '/networks?name=ui-net')).networks[0];
  const subnet = (await n.ok('GET', '/subnets?name=ui-subnet')).subnets[0];
  assert.equal(subnet.network_id, net.id);
  assert.equal(subnet.cidr, '10.9.0.0/24');

  // A second subnet overlapping the first: Neutron says why, and the page shows it.
  await open(page, 'Subnets');
  await page.getByText('Create a subnet').click();
  const sub = page.getByRole('form', { name: 'Create a subnet' });
  await sub.getByLabel('Network').selectOption({ label: 'ui-net' });
  await sub.getByLabel('Subnet range (CIDR)').fill('10.9.0.0/25');
  await sub.getByRole('button', { name: 'Create' }).click();
  await alert(page, /overlap/i);

  await open(page, 'Routers');
  await page.getByText('Create a router').click();
  const router = page.getByRole('form', { name: 'Create a router' });
  await router.getByLabel('Name').fill('ui-router');
  await router.getByLabel('External network').selectOption({ label: 'public' });
  await router.getByLabel('Interface on subnet').selectOption({ label: 'ui-subnet 10.9.0.0/24' });
  await router.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Router ui-router is created.');
  const r = (await n.ok('GET', '/routers?name=ui-router')).routers[0];
  assert.equal(r.external_gateway_info.network_id, pubId);
  const iface = (await n.ok('GET', `/ports?device_id=${r.id}&device_owner=network:router_interface`)).ports;
  assert.deepEqual(
    iface.map((p: any) => p.fixed_ips[0].subnet_id),
    [subnet.id],
  );
  await cell(page, '10.9.0.0/24').waitFor();

  await open(page, 'Floating IPs');
  await page.getByText('Allocate a floating IP').click();
  await page.getByRole('form', { name: 'Allocate a floating IP' }).getByRole('button', { name: 'Allocate' }).click();
  const address = (await page
    .getByRole('status')
    .getByText(/^Floating IP .* is allocated\.$/)
    .textContent())!.split(' ')[2]!;
  await cell(page, address).waitFor();
  const ip = (await n.ok('GET', `/ports?device_id=${web1}`)).ports[0].fixed_ips[0].ip_address;
  await page.getByLabel(`Attach floating IP ${address} to`).selectOption({ label: `web-1 ${ip}` });
  await said(page, `Floating IP ${address} is attached.`);
  const fip = (await n.ok('GET', `/floatingips?floating_ip_address=${address}`)).floatingips[0];
  assert.equal(fip.port_id, (await n.ok('GET', `/ports?device_id=${web1}`)).ports[0].id);
  await cell(page, 'web-1').waitFor();
  await page.getByRole('button', { name: `Release floating IP ${address}` }).click();
  await cell(page, address).waitFor({ state: 'detached' });
  assert.equal((await c.request('GET', `/networking/v2.0/floatingips/${fip.id}`, { token: demo.token })).status, 404);

  // The router goes with its interface detached first; then the network with its subnet.
  await open(page, 'Routers');
  await page.getByRole('button', { name: 'Delete router ui-router' }).click();
  await said(page, 'Router ui-router is deleted.');
  assert.equal((await c.request('GET', `/networking/v2.0/routers/${r.id}`, { token: demo.token })).status, 404);
  await open(page, 'Networks');
  await page.getByRole('button', { name: 'Delete network ui-net' }).click();
  await said(page, 'Network ui-net is deleted.');
  assert.equal((await c.request('GET', `/networking/v2.0/networks/${net.id}`, { token: demo.token })).status, 404);
  assert.equal(await page.getByRole('button', { name: 'Delete network public' }).count(), 0, "the admin's external network offers no delete");
  await page.close();
});

test('volumes: created empty and from an image, attached to a server and detached, extended, deleted, statuses followed', async () => {
  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Volumes');
  const cinder = async (path: string) => (await api(demo.token, `/volume/v3/${demo.id}${path}`));
  const row = (name: string) => page.getByRole('row').filter({ has: cell(page, name) });
  const status = (name: string, s: string) => row(name).getByRole('cell', { name: s, exact: true }).waitFor({ timeout: 30_000 });
  await page.getByText('Create a volume').click();
  const create = page.getByRole('form', { name: 'Create a volume' });
  await create.getByLabel('Name').fill('data');
  await create.getByLabel('Size (GB)').fill('0');
  await create.getByRole('button', { name: 'Create' }).click();
  assert.equal(await create.getByLabel('Size (GB)').evaluate((e: HTMLInputElement) => e.validity.rangeUnderflow), true, 'no volume of 0 GB is sent');
  await create.getByLabel('Size (GB)').fill('1');
  await create.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Volume data is being created.');
  await create.getByLabel('Name').fill('from-image');
  await create.getByLabel('Size (GB)').fill('1');
  await create.getByLabel('From image').selectOption({ label: 'cirros-like' });
  await create.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Volume from-image is being created.');
  await status('data', 'available');
  await status('from-image', 'available');
  const byName = async (name: string) => (await cinder(`/volumes/detail?name=${name}`)).volumes[0];
  const fromImage = await byName('from-image');
  assert.equal(fromImage.volume_image_metadata?.image_name, 'cirros-like');

  await page.getByLabel('Attach volume data to').selectOption({ label: 'web-1' });
  await said(page, 'Volume data is being attached to web-1.');
  await status('data', 'in-use');
  await row('data').getByRole('link', { name: /^web-1 on \/dev\/vd/ }).waitFor();
  const data = await byName('data');
  assert.equal(data.attachments[0].server_id, web1);
  await page.getByRole('button', { name: 'Detach volume data from web-1' }).click();
  await said(page, 'Volume data is being detached from web-1.');
  await status('data', 'available');
  assert.deepEqual((await cinder(`/volumes/${data.id}`)).volume.attachments, []);

  await page.getByLabel('New size of volume data in GB').fill('3');
  await page.getByRole('button', { name: 'Extend volume data' }).click();
  await said(page, 'Volume data is being extended to 3 GB.');
  await status('data', '3 GB');
  assert.equal((await cinder(`/volumes/${data.id}`)).volume.size, 3);

  for (const v of [data, fromImage]) {
    await page.getByRole('button', { name: `Delete volume ${v.name}` }).click();
    await cell(page, v.name).waitFor({ state: 'detached', timeout: 30_000 });
    await eventually(`volume ${v.name} gone`, async () => (await c.request('GET', `/volume/v3/${demo.id}/volumes/${v.id}`, { token: demo.token })).status === 404);
  }
  await page.close();
});

test('a load balancer made from its page: a listener, a pool with the chosen server and a monitor; in the topology, listed and deleted with what it holds', async () => {
  const lbApi = async (path: string) => {
    const res = await c.request('GET', `/load-balancer/v2${path}`, { token: demo.token });
    assert.ok(res.status < 300, `GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const n = neutronOf(c, demo.token);
  const subnet = (await n.ok('GET', '/subnets?name=web-subnet')).subnets[0];
  const address = (await n.ok('GET', `/ports?device_id=${web1}`)).ports[0].fixed_ips[0].ip_address;

  const page = await logIn('demo-user', 'pw');
  await page.waitForURL(/\/topology$/);
  await open(page, 'Load balancers');
  await page.getByText('Create a load balancer').click();
  const create = page.getByRole('form', { name: 'Create a load balancer' });
  await create.getByLabel('Name').fill('web-lb');
  await create.getByLabel('VIP subnet').selectOption({ label: 'web-subnet (10.1.0.0/24)' });
  await create.getByLabel('Port', { exact: true }).fill('70000');
  await create.getByRole('button', { name: 'Create' }).click();
  assert.equal(await create.getByLabel('Port', { exact: true }).evaluate((e: HTMLInputElement) => e.validity.rangeOverflow), true, 'no port above 65535 is sent');
  assert.deepEqual((await lbApi('/lbaas/loadbalancers')).loadbalancers, []);
  await create.getByLabel('Port', { exact: true }).fill('80');
  await create.getByLabel("Members' port").fill('8080');
  await create.getByLabel(`Member web-1 (${address})`).check();
  await create.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Load balancer web-lb is ready: HTTP 80 to 1 member.');

  // What the page made, through the API: each piece, in Octavia's words.
  const [lb] = (await lbApi('/lbaas/loadbalancers')).loadbalancers;
  assert.equal(lb.name, 'web-lb');
  assert.equal(lb.vip_subnet_id, subnet.id);
  assert.equal(lb.provisioning_status, 'ACTIVE');
  const [listener] = (await lbApi('/lbaas/listeners')).listeners;
  assert.deepEqual([listener.protocol, listener.protocol_port], ['HTTP', 80]);
  const [pool] = (await lbApi('/lbaas/pools')).pools;
  assert.equal(pool.lb_algorithm, 'ROUND_ROBIN');
  const [member] = (await lbApi(`/lbaas/pools/${pool.id}/members`)).members;
  assert.deepEqual([member.address, member.protocol_port, member.subnet_id], [address, 8080, subnet.id]);
  const [monitor] = (await lbApi('/lbaas/healthmonitors')).healthmonitors;
  assert.deepEqual([monitor.type, monitor.url_path, monitor.pools[0].id], ['HTTP', '/', pool.id]);

  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Topology', exact: true }).click();
  const node = page.getByRole('button', { name: 'load balancer web-lb', exact: true });
  await node.waitFor();
  assert.equal(await page.locator(`path.edge.vip[data-from="network:${subnet.network_id}"][data-to="lb:${lb.id}"]`).count(), 1, 'on its VIP network');
  assert.equal(await page.locator(`path.edge.member[data-from="lb:${lb.id}"][data-to="server:${web1}"]`).count(), 1, 'linked to its member');
  await node.click();
  const panel = page.getByRole('complementary');
  await panel.getByRole('heading', { name: 'load balancer web-lb' }).waitFor();
  await panel.getByText(`web-1:8080`).waitFor();
  await panel.getByText(lb.vip_address).waitFor();

  await open(page, 'Load balancers');
  const row = page.getByRole('row').filter({ has: cell(page, 'web-lb') });
  assert.deepEqual((await row.getByRole('cell').allTextContents()).slice(0, 5), ['web-lb', lb.vip_address, 'web-net', 'HTTP 80', '1']);
  await page.getByRole('button', { name: 'Delete load balancer web-lb' }).click();
  await said(page, 'Load balancer web-lb is being deleted.');
  await eventually('the load balancer gone', async () => (await c.request('GET', `/load-balancer/v2/lbaas/loadbalancers/${lb.id}`, { token: demo.token })).status === 404, 30_000);
  await cell(page, 'web-lb').waitFor({ state: 'detached' });
  assert.equal((await c.request('GET', `/load-balancer/v2/lbaas/pools/${pool.id}`, { token: demo.token })).status, 404, 'its pool went with it');
  await page.close();
});

test("at a phone's width every page fits: the views fold under a menu, wide tables scroll in their own frame", async () => {
  const phone = { width: 390, height: 844 };
  const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  /** Opens a view from the folded menu by keyboard, then checks the page's width with every form unfolded. */
  const fits = async (page: Page, nav: string, view: string) => {
    const menu = page.getByRole('button', { name: 'Menu' });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.getByRole('navigation', { name: nav }).isVisible(), false, 'the views are folded');
    await menu.focus();
    await page.keyboard.press('Enter');
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    const link = page.getByRole('navigation', { name: nav }).getByRole('link', { name: view, exact: true });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: view }).waitFor();
    await page.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    assert.equal(await sideways(page), 0, `${view} does not scroll sideways`);
  };
  const member = await logIn('demo-user', 'pw', phone);
  await member.waitForURL(/\/topology$/);
  await member.getByRole('button', { name: 'server web-1', exact: true }).waitFor();
  assert.equal(await sideways(member), 0, 'Topology does not scroll sideways');
  for (const view of ['Overview', 'Servers', 'Images', 'Networks', 'Subnets', 'Routers', 'Floating IPs', 'Load balancers', 'Security groups', 'Key pairs', 'Volumes']) {
    await fits(member, 'Views', view);
  }
  const image = (await api(demo.token, '/image/v2/images?name=cirros-like')).images[0].id;
  for (const [path, heading] of [[`/servers/${web1}`, 'Server web-1'], [`/images/${image}`, 'Image cirros-like']]) {
    await member.goto(`${c.url}${path}`);
    await member.getByRole('heading', { level: 1, name: heading }).waitFor();
    assert.equal(await sideways(member), 0, `${heading} does not scroll sideways`);
  }
  if (shots) {
    await member.getByRole('button', { name: 'Menu' }).click();
    await member.screenshot({ path: `${shots}dashboard-phone.png` });
  }
  await member.close();
  const admin = await logIn('admin', c.cloud.credentials!.password, phone);
  await admin.waitForURL(/\/topology$/);
  for (const view of ['Flavors', 'Users', 'Role assignments', 'Hypervisors', 'Projects']) await fits(admin, 'Admin', view);
  // A table wider than the screen (the projects' ids make one) scrolls in its own frame.
  const frame = await admin.locator('.list').evaluate((e) => ({ scroll: e.scrollWidth, width: e.clientWidth, right: e.getBoundingClientRect().right }));
  assert.ok(frame.scroll > frame.width && frame.right <= 390, `the table scrolls inside a frame on the screen: ${JSON.stringify(frame)}`);
  await admin.close();
});

test("the admin's flavors, projects, users and role assignments: made, switched and removed; the launch wizard and the instance list as the docs show them", async () => {
  const admin = await c.adminToken();
  const page = await logIn('admin', c.cloud.credentials!.password);
  await page.waitForURL(/\/topology$/);
  const openAdmin = async (view: string) => {
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: view }).click();
    await page.getByRole('heading', { level: 1, name: view }).waitFor();
    await page.locator('.list[aria-busy="false"]').waitFor();
  };

  await openAdmin('Flavors');
  await page.getByText('Create a flavor').click();
  const flavor = page.getByRole('form', { name: 'Create a flavor' });
  await flavor.getByLabel('Name').fill('ui.small');
  await flavor.getByLabel('vCPUs').fill('0');
  await flavor.getByRole('button', { name: 'Create' }).click();
  assert.equal(await flavor.getByLabel('vCPUs').evaluate((e: HTMLInputElement) => e.validity.rangeUnderflow), true, 'no flavor of 0 vCPUs is sent');
  await flavor.getByLabel('vCPUs').fill('2');
  await flavor.getByLabel('RAM (MB)').fill('1024');
  await flavor.getByLabel('Disk (GB)').fill('5');
  await flavor.getByLabel('Public (every project may use it)').uncheck();
  await flavor.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Flavor ui.small is created.');
  const flavors = async () => (await api(admin, '/compute/v2.1/flavors/detail?is_public=None')).flavors;
  const made = (await flavors()).find((f: any) => f.name === 'ui.small');
  assert.deepEqual([made.vcpus, made.ram, made.disk, made['os-flavor-access:is_public']], [2, 1024, 5, false]);
  await cell(page, 'ui.small').waitFor();
  // The same name again: Nova's refusal in its words.
  await flavor.getByLabel('Name').fill('ui.small');
  await flavor.getByRole('button', { name: 'Create' }).click();
  await alert(page, /already exists/);
  await page.getByRole('button', { name: 'Delete flavor ui.small' }).click();
  await cell(page, 'ui.small').waitFor({ state: 'detached' });
  assert.equal((await flavors()).some((f: any) => f.name === 'ui.small'), false);

  await openAdmin('Projects');
  await page.getByText('Create a project').click();
  const project = page.getByRole('form', { name: 'Create a project' });
  await project.getByLabel('Name').fill('ui-proj');
  await project.getByLabel('Description').fill('made in the browser');
  await project.getByRole('button', { name: 'Create' }).click();
  await said(page, 'Project ui-proj is created.');
  const proj = (await api(admin, '/identity/v3/projects?name=ui-proj')).projects[0];
  assert.deepEqual([proj.description, proj.enabled], ['made in the browser', true]);
  await page.getByRole('button', { name: 'Disable project ui-proj' }).click();
  await said(page, 'Project ui-proj is disabled.');
  assert.equal((await api(admin, `/identity/v3/projects/${proj.id}`)).project.enabled, false);
  await page.getByRole('button', { name: 'Enable project ui-proj' }).click();
  await said(page, 'Project ui-proj is enabled.');
  assert.equal((await api(admin, `/identity/v3/projects/${proj.id}`)).project.enabled, true);
  assert.equal(await page.getByRole('button', { name: 'Delete project admin' }).count(), 0, "the session's own project is not offered");

  await openAdmin('Users');
  await page.getByText('Create a user').click();
  const user = page.getByRole('form', { name: 'Create a user' });
  await user.getByLabel('Name').fill('ui-user');
  await user.getByLabel('Password').fill('ui-secret-1');
  await user.getByLabel('Default project').selectOption({ label: 'ui-proj' });
  await user.getByLabel('Role on that project').selectOption({ label: 'member' });
  await user.getByRole('button', { name: 'Create' }).click();
  await said(page, 'User ui-user is created.');
  const u = (await api(admin, '/identity/v3/users?name=ui-user')).users[0];
  assert.equal(u.default_project_id, proj.id);
  await c.login('ui-user', 'ui-secret-1', 'ui-proj');
  await cell(page, 'ui-proj').waitFor();
  await page.getByRole('button', { name: 'Disable user ui-user' }).click();
  await said(page, 'User ui-user is disabled.');
  const scoped = () =>
    c.request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'ui-user', domain: { name: 'Default' }, password: 'ui-secret-1' } } },
          scope: { project: { name: 'ui-proj', domain: { name: 'Default' } } },
        },
      },
    });
  assert.equal((await scoped()).status, 401, 'a disabled user cannot log in');
  await page.getByRole('button', { name: 'Enable user ui-user' }).click();
  await said(page, 'User ui-user is enabled.');
  assert.equal((await scoped()).status, 201);

  await openAdmin('Role assignments');
  const row = page.getByRole('row').filter({ has: cell(page, 'user demo-user') });
  await row.first().waitFor();
  assert.deepEqual(await row.first().getByRole('cell').allTextContents(), ['member', 'user demo-user', 'project demo', 'no', 'Revoke']);
  const own = page.getByRole('row').filter({ has: cell(page, 'user admin') }).filter({ has: cell(page, 'project admin') });
  assert.deepEqual(await own.first().getByRole('cell').allTextContents(), ['admin', 'user admin', 'project admin', 'no', '—'], "the session's own role is not offered to revoke");
  await page.getByText('Grant a role').click();
  const grant = page.getByRole('form', { name: 'Grant a role' });
  await grant.getByLabel('User').selectOption({ label: 'ui-user' });
  await grant.getByLabel('Project').selectOption({ label: 'demo' });
  await grant.getByLabel('Role').selectOption({ label: 'reader' });
  await grant.getByRole('button', { name: 'Grant' }).click();
  await said(page, 'User ui-user has role reader on project demo.');
  const roleOf = async () =>
    (await api(admin, `/identity/v3/role_assignments?user.id=${u.id}&scope.project.id=${demo.id}&include_names=true`)).role_assignments.map(
      (a: any) => a.role.name,
    );
  assert.deepEqual(await roleOf(), ['reader']);
  await page.getByRole('button', { name: 'Revoke role reader from user ui-user on project demo' }).click();
  await said(page, 'The role reader of user ui-user on project demo is revoked.');
  assert.deepEqual(await roleOf(), []);

  await openAdmin('Users');
  await page.getByRole('button', { name: 'Delete user ui-user' }).click();
  await said(page, 'User ui-user is deleted.');
  assert.equal((await c.request('GET', `/identity/v3/users/${u.id}`, { token: admin })).status, 404);
  await openAdmin('Projects');
  await page.getByRole('button', { name: 'Delete project ui-proj' }).click();
  await said(page, 'Project ui-proj is deleted.');
  assert.equal((await c.request('GET', `/identity/v3/projects/${proj.id}`, { token: admin })).status, 404);
  await page.close();

  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  const member = await logIn('demo-user', 'pw');
  await member.waitForURL(/\/topology$/);
  await open(member, 'Servers');
  await cell(member, 'web-1').waitFor();
  await member.screenshot({ path: `${shots}dashboard-servers.png` });
  await member.getByText('Launch a server').click();
  const form = member.getByRole('form', { name: 'Launch a server' });
  await form.getByLabel('Name').fill('web-2');
  await form.getByLabel('Image').selectOption({ label: 'cirros-like' });
  await form.getByLabel('Flavor').selectOption({ index: 1 });
  await form.getByLabel('Network').selectOption({ label: 'web-net' });
  await member.screenshot({ path: `${shots}dashboard-launch.png` });
  await member.close();
});
