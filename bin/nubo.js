#!/usr/bin/env node
// The installed `nubo` command: the compiled CLI, or in a checkout that was never built, the
// TypeScript sources run through tsx (slower to start).
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
