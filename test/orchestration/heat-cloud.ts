import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, cliAs, startTestCloud, tempDir, type TestCloud } from '../helpers/cloud.ts';
import { rawImage } from '../compute/helpers.ts';

// What the orchestration CLI tests share: a cloud in this process with the fake virt driver and a
// database of its own (a test restarts it on the same data), a demo project whose member user
// `demo` makes the stacks, the m1.tiny flavor and the 1 MiB raw image `tiny` their servers boot.

export interface HeatCloud {
  cloud: TestCloud;
  dataDir: string;
  /** Where a test writes its templates and environments. */
  work: string;
  /** The admin's openstack environment. */
  env: Record<string, string>;
}

export async function startHeatCloud(tag: string): Promise<HeatCloud> {
  const dataDir = tempDir(`nubo-${tag}-`);
  const work = tempDir(`nubo-${tag}-work-`);
  let cloud: TestCloud | undefined;
  try {
    cloud = await startTestCloud({ dataDir, database: join(dataDir, 'db') });
    const env = adminEnv(cloud.url, cloud.cloud.credentials!.password);
    const ok = cliAs(() => env);
    await ok('project', 'create', 'demo');
    await ok('user', 'create', '--project', 'demo', '--password', 'pw', 'demo');
    await ok('role', 'add', '--project', 'demo', '--user', 'demo', 'member');
    await ok('flavor', 'create', '--ram', '64', '--disk', '1', '--vcpus', '1', 'm1.tiny');
    await rawImage(cloud, await cloud.adminToken(), 1 << 20, { name: 'tiny', disk_format: 'raw', container_format: 'bare' });
    return { cloud, dataDir, work, env };
  } catch (err) {
    // The test's after hook never learns of these directories when the start fails.
    await stopHeatCloud({ cloud, dataDir, work });
    throw err;
  }
}

export async function stopHeatCloud(h: Partial<HeatCloud>): Promise<void> {
  await h.cloud?.stop();
  for (const dir of [h.dataDir, h.work]) if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The demo user's environment beside the admin's. */
export const demoEnv = (env: Record<string, string>) => ({ ...env, OS_USERNAME: 'demo', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'demo' });

/** What `stack create --wait -f json` prints: the events as they come, then the stack. */
export const afterEvents = (out: string) => JSON.parse(out.slice(out.search(/^\{/m)));
