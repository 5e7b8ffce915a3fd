import { setFlagsFromString } from 'node:v8';

/**
 * Has V8 compile WebAssembly (PGlite's 9 MB module, and its hot functions again at the top tier)
 * in one background task instead of one per platform thread. Each thread that compiled keeps the
 * allocator arenas it used, which a process never gives back: about 25 MiB less at rest after a
 * start and 45 MiB less at its peak (bench/footprint.ts), with no slower start measured on 2
 * cores. It only takes effect for modules compiled after it, so it runs before PGlite starts.
 */
export function compileWasmInOneTask(): void {
  setFlagsFromString('--wasm-num-compilation-tasks=1');
}
