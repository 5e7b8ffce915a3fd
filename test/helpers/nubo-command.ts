import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** The newest modification time under dir, of the TypeScript sources. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

function built(): boolean {
  try {
    return statSync(join(root, 'dist/cli/nubo.js')).mtimeMs >= newest(join(root, 'src'));
  } catch {
    return false;
  }
}

/**
 * How node runs the `nubo` command: bin/nubo.js, as installed, which runs the build in dist/ (a
 * third of the CPU of compiling the sources at each start, and the tests start it hundreds of
 * times); the sources through tsx when the build is missing or older than any of them, so that a
 * change is never tested against a stale build.
 */
export const nuboArgv: readonly string[] = built() ? [join(root, 'bin/nubo.js')] : ['--import', 'tsx', join(root, 'src/cli/nubo.ts')];
