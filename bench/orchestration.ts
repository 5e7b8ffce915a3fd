// Orchestration: one stack of a network, a subnet and BENCH_SERVERS servers (default 20) on the
// fake virt driver, made through Heat's API — the seconds to CREATE_COMPLETE and to the stack's
// deletion, with the servers as resources of the stack and as the members of an
// OS::Heat::ResourceGroup (a nested stack), and the same servers made one after another for
// comparison, which shows what the engine's parallel creation gains; then SERVERS wait condition
// signals sent at once. Run: npx tsx bench/orchestration.ts
import { startTestCloud, type TestCloud } from '../test/helpers/cloud.ts';
import { rawImage } from '../test/compute/helpers.ts';

const SERVERS = Number(process.env.BENCH_SERVERS ?? 20);

async function until(c: TestCloud, token: string, path: string, done: (status: number, body: any) => boolean): Promise<void> {
  for (;;) {
    const res = await c.request('GET', path, { token });
    if (done(res.status, res.body)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const c = await startTestCloud();
try {
  const token = await c.adminToken();
  const project = (await c.request('GET', '/identity/v3/projects?name=admin', { token })).body.projects[0].id;
  await c.request('PUT', `/compute/v2.1/os-quota-sets/${project}`, {
    token,
    body: { quota_set: { instances: SERVERS * 2 + 10, cores: SERVERS * 2 + 10, ram: 1 << 20 } },
  });
  await c.request('PUT', `/networking/v2.0/quotas/${project}`, { token, body: { quota: { port: SERVERS * 2 + 20 } } });
  await c.request('POST', '/compute/v2.1/flavors', { token, body: { flavor: { name: 'bench', ram: 64, disk: 1, vcpus: 1 } } });
  await rawImage(c, token, 1 << 20, { name: 'bench', disk_format: 'raw', container_format: 'bare' });
  const base = `/orchestration/v1/${project}`;
  /** Creates a stack of those resources and deletes it; answers the seconds each took. */
  const timeStack = async (name: string, resources: Record<string, unknown>) => {
    const t0 = performance.now();
    const made = await c.request('POST', `${base}/stacks`, {
      token,
      body: { stack_name: name, template: { heat_template_version: '2021-04-16', resources } },
    });
    if (made.status !== 201) throw new Error(JSON.stringify(made.body));
    const path = `${base}/stacks/${name}/${made.body.stack.id}`;
    await until(c, token, path, (_s, b) => b.stack.stack_status !== 'CREATE_IN_PROGRESS');
    const created = (performance.now() - t0) / 1000;
    const shown = (await c.request('GET', path, { token })).body.stack;
    if (shown.stack_status !== 'CREATE_COMPLETE') throw new Error(shown.stack_status_reason);
    const t1 = performance.now();
    await c.request('DELETE', `${base}/stacks/${name}`, { token });
    await until(c, token, `${base}/stacks/${name}/events`, (status) => status === 404);
    return { created, deleted: (performance.now() - t1) / 1000 };
  };
  const network = {
    net: { type: 'OS::Neutron::Net' },
    subnet: { type: 'OS::Neutron::Subnet', properties: { network: { get_resource: 'net' }, cidr: '10.50.0.0/16' } },
  };
  const server = { image: 'bench', flavor: 'bench', networks: [{ network: { get_resource: 'net' } }] };

  const resources: Record<string, unknown> = { ...network };
  for (let i = 0; i < SERVERS; i++) resources[`server${i}`] = { type: 'OS::Nova::Server', depends_on: 'subnet', properties: server };
  const flat = await timeStack('bench', resources);
  console.log(`stack of ${SERVERS} servers (fake driver)          CREATE_COMPLETE in ${flat.created.toFixed(1)} s   deleted in ${flat.deleted.toFixed(1)} s`);

  const group = await timeStack('group', {
    ...network,
    group: {
      type: 'OS::Heat::ResourceGroup',
      depends_on: 'subnet',
      properties: { count: SERVERS, resource_def: { type: 'OS::Nova::Server', properties: { ...server, name: 'member-%index%' } } },
    },
  });
  console.log(`ResourceGroup of ${SERVERS} servers (fake driver)  CREATE_COMPLETE in ${group.created.toFixed(1)} s   deleted in ${group.deleted.toFixed(1)} s`);

  // The same servers one after another, each waited for as the engine waits for one.
  const net = (await c.request('POST', '/networking/v2.0/networks', { token, body: { network: { name: 'serial' } } })).body.network;
  await c.request('POST', '/networking/v2.0/subnets', { token, body: { subnet: { network_id: net.id, cidr: '10.60.0.0/16', ip_version: 4 } } });
  const flavor = (await c.request('GET', '/compute/v2.1/flavors', { token })).body.flavors.find((f: any) => f.name === 'bench').id;
  const image = (await c.request('GET', '/image/v2/images?name=bench', { token })).body.images[0].id;
  const t2 = performance.now();
  for (let i = 0; i < SERVERS; i++) {
    const s = await c.request('POST', '/compute/v2.1/servers', {
      token,
      body: { server: { name: `s${i}`, imageRef: image, flavorRef: flavor, networks: [{ uuid: net.id }] } },
    });
    await until(c, token, `/compute/v2.1/servers/${s.body.server.id}`, (_st, b) => b.server.status === 'ACTIVE' || b.server.status === 'ERROR');
  }
  console.log(`the same ${SERVERS} servers one at a time    ACTIVE in ${((performance.now() - t2) / 1000).toFixed(1)} s`);

  // A WaitCondition counting SERVERS signals sent all at once, with the handle's token, as that
  // many guests would: all must count, and the stack completes once the last has come.
  const waited = await c.request('POST', `${base}/stacks`, {
    token,
    body: {
      stack_name: 'signals',
      template: {
        heat_template_version: '2021-04-16',
        resources: {
          handle: { type: 'OS::Heat::WaitConditionHandle' },
          wait: { type: 'OS::Heat::WaitCondition', properties: { handle: { get_resource: 'handle' }, count: SERVERS, timeout: 600 } },
        },
      },
    },
  });
  const stackPath = `${base}/stacks/signals/${waited.body.stack.id}`;
  await until(c, token, `${stackPath}/resources/handle`, (_s, b) => Boolean(b.resource?.attributes?.token));
  const secret = (await c.request('GET', `${stackPath}/resources/handle`, { token })).body.resource.attributes.token;
  const t3 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: SERVERS }, (_, i) =>
      c.request('POST', `${stackPath}/resources/handle/signal`, { body: { data: `guest ${i}` }, headers: { 'x-nubo-signal-token': secret } }),
    ),
  );
  const signalled = (performance.now() - t3) / 1000;
  if (answers.some((a) => a.status !== 200)) throw new Error(`a signal was refused: ${JSON.stringify(answers.find((a) => a.status !== 200)?.body)}`);
  await until(c, token, stackPath, (_s, b) => b.stack.stack_status !== 'CREATE_IN_PROGRESS');
  const ended = (await c.request('GET', stackPath, { token })).body.stack;
  if (ended.stack_status !== 'CREATE_COMPLETE') throw new Error(ended.stack_status_reason);
  console.log(
    `${SERVERS} signals at once to a WaitCondition       answered in ${signalled.toFixed(2)} s   CREATE_COMPLETE ${((performance.now() - t3) / 1000).toFixed(1)} s after the first`,
  );
} finally {
  await c.stop();
}
