import { rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from './context.ts';
import { killAndWait, livePid, stopDaemon } from './daemon.ts';

// Starts and supervises a network's metadata proxy (./metadata-proxy.ts) inside its DHCP namespace.

/** The proxy's script beside this module: .ts under tsx, .js once compiled to dist/. */
const SCRIPT = fileURLToPath(new URL(`./metadata-proxy${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

const pidfileOf = (dir: string) => join(dir, 'metadata-proxy.pid');
// Known by its pid file rather than its script path, so that a proxy started from dist/ is found
// (and replaced) by a Nubo running under tsx, and the other way round.
const isProxyOf = (pidfile: string) => (args: string[]) => args.some((a) => basename(a).startsWith('metadata-proxy.')) && args.includes(`--pidfile=${pidfile}`);

export async function ensureMetadataProxy(ctx: Context, netns: string, networkId: string, dir: string): Promise<void> {
  const pidfile = pidfileOf(dir);
  const args = [SCRIPT, `--network=${networkId}`, `--socket=${ctx.metadataSocket}`, `--pidfile=${pidfile}`, `--log=${join(dir, 'metadata-proxy.log')}`];
  const live = await livePid(pidfile, isProxyOf(pidfile));
  if (live && live.args.slice(-args.length).join('\0') === args.join('\0')) return;
  if (live) await killAndWait(live.pid);
  await rm(pidfile, { force: true });
  // The same node and loader flags as this process, so the script runs under tsx as Nubo does, or
  // compiled; but not a debugger's, which would stop a proxy that nobody attaches to.
  const flags = process.execArgv.filter((f) => !f.startsWith('--inspect'));
  await ctx.sh.in(netns, [process.execPath, ...flags, ...args, '--daemon']);
  ctx.log.info({ network: networkId, restarted: Boolean(live) }, 'metadata proxy started');
}

export const stopMetadataProxy = (dir: string) => stopDaemon(pidfileOf(dir), isProxyOf(pidfileOf(dir)));
