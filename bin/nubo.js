#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=2
// The installed `nubo` command: the compiled CLI, or in a checkout that was never built, the
// TypeScript sources run through tsx (slower to start).
// Node's options above are read before any script runs, so only the command line can give them
// (package.json's `start` gives the same): one V8 helper thread instead of four, since each thread
// that ran the garbage collector or a compile keeps its allocator arena, and young generations of
// 2 MiB instead of up to 16 MiB each. `nubo up` rests 20–50 MiB smaller (docs/reconcile.md); a
// short command's time did not change measurably.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22+ keeps compiled code between runs, which shortens every command's start.
module.enableCompileCache?.();

const compiled = new URL('../dist/cli/nubo.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('nubo: dist/ is missing (run `npm run build` for a fast start); running the sources with tsx\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/nubo.ts', import.meta.url).href);
}
