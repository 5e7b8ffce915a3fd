// CLI: the wall time of `nubo server list` beside `openstack server list`, same cloud, same run,
// alternating, and their ratio. nubo runs compiled (bin/nubo.js with dist/), as installed.
// Run: npm run bench:cli
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnNubo } from '../test/helpers/cloud.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const RUNS = 9;

await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
const cloud = await spawnNubo({ env: { NUBO_COMPUTE_DRIVER: 'fake' } });
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_'))), ...cloud.env };
const time = async (argv: string[]) => {
  const t = performance.now();
  await run(argv[0]!, argv.slice(1), { env, cwd: root });
  return performance.now() - t;
};
try {
  const nubo = [process.execPath, `${root}bin/nubo.js`, 'server', 'list'];
  const openstack = ['openstack', 'server', 'list'];
  // One of each first: caches (Node's compile cache, Python's bytecode) as a user's second run has them.
  await time(nubo);
  await time(openstack);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await time(nubo));
    b.push(await time(openstack));
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((x, y) => x - y),
      50,
    );
  const [n, o] = [median(a), median(b)];
  console.log(`server list, median of ${RUNS}:  nubo ${(n / 1000).toFixed(3)} s   openstack ${(o / 1000).toFixed(3)} s   ratio ${(n / o).toFixed(2)}`);
} finally {
  await cloud.stop();
}
