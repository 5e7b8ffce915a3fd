import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { basename, join } from 'node:path';
import type { Context } from './context.ts';
import { stopDaemon } from './daemon.ts';

// Each network's metadata endpoint: a socket listening on 169.254.169.254:80 inside the network's
// DHCP namespace, served by this process, which forwards each request to the metadata service's
// unix socket with the network the socket belongs to and the address that asked (the two things
// that tell an instance apart) in place of any copy the guest sent. A process per network would
// cost some 40 MB and a start each; a socket costs next to nothing. Node cannot enter a namespace,
// so a node started in it opens the socket, hands it over on its IPC channel and exits.

/** Headers the endpoint sets itself, and hop-by-hop ones that belong to one connection only. */
const DROPPED = new Set([
  'x-nubo-network-id',
  'x-forwarded-for',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);
/** Guests of one network share its endpoint; past this many connections, new ones wait. */
const MAX_CONNECTIONS = 64;

/** Run by node inside the namespace: plain JavaScript, no loader of this process's. */
const BIND = `
const server = require('node:net').createServer();
server.on('error', (err) => { console.error(err.message); process.exit(1); });
server.listen(80, '169.254.169.254', () => process.send('bound', server, () => process.exit(0)));`;

export interface MetadataEndpoint {
  /** The namespace's inode when the socket was opened: a namespace made anew under the same name
   * (after a crash, by hand) is another one, where the old socket does not listen. */
  netnsInode: number;
  listener: NetServer;
  http: HttpServer;
}

const keep = (headers: IncomingHttpHeaders): IncomingHttpHeaders => Object.fromEntries(Object.entries(headers).filter(([name]) => !DROPPED.has(name)));

/** The HTTP server that forwards a network's requests; it gets its connections from the socket. */
function forwarder(ctx: Context, networkId: string): HttpServer {
  const server = createServer((req, res) => {
    const headers = { ...keep(req.headers), 'x-nubo-network-id': networkId, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = request({ socketPath: ctx.metadataSocket, method: req.method, path: req.url, headers, timeout: 30_000 }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, keep(answer.headers));
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('the metadata service did not answer in time')));
    upstream.on('error', (err) => {
      ctx.log.warn({ err, network: networkId, path: req.url }, 'metadata request not forwarded');
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end('metadata service unavailable\n');
    });
    req.pipe(upstream);
  });
  server.requestTimeout = 30_000;
  return server;
}

/** Opens a listening socket on the metadata address inside netns. */
function bindIn(ctx: Context, netns: string): Promise<NetServer> {
  // Not through the shell's runner, which has no IPC channel; argv only, as there.
  const argv = ['ip', 'netns', 'exec', netns, process.execPath, '-e', BIND];
  ctx.log.debug({ argv: argv.slice(0, 5) }, 'opening a metadata socket');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('message', (_msg, handle) => resolve(handle as NetServer));
    child.once('error', reject);
    child.once('close', (code) => reject(new Error(`opening the metadata socket in ${netns} failed (${code}): ${stderr.trim()}`)));
  });
}

async function close(endpoint: MetadataEndpoint): Promise<void> {
  endpoint.http.closeAllConnections();
  await new Promise<void>((resolve) => endpoint.listener.close(() => resolve()));
}

// Earlier versions ran a proxy process per network, which holds the address until it is stopped.
const oldPidfile = (dir: string) => join(dir, 'metadata-proxy.pid');
const isOldProxy = (pidfile: string) => (args: string[]) =>
  args.some((a) => basename(a).startsWith('metadata-proxy.')) && args.includes(`--pidfile=${pidfile}`);

/** Makes the network's endpoint listen in netns, unless it does already. */
export async function ensureMetadataEndpoint(ctx: Context, netns: string, networkId: string, dir: string): Promise<void> {
  const netnsInode = statSync(`/run/netns/${netns}`).ino;
  const live = ctx.metadataEndpoints.get(networkId);
  if (live?.netnsInode === netnsInode && live.listener.listening) return;
  if (live) await stopMetadataEndpoint(ctx, networkId);
  await stopDaemon(oldPidfile(dir), isOldProxy(oldPidfile(dir)));
  const listener = await bindIn(ctx, netns);
  listener.maxConnections = MAX_CONNECTIONS;
  const http = forwarder(ctx, networkId);
  listener.on('connection', (socket) => http.emit('connection', socket));
  ctx.metadataEndpoints.set(networkId, { netnsInode, listener, http });
  ctx.log.info({ network: networkId, reopened: Boolean(live) }, 'metadata endpoint listening');
}

export async function stopMetadataEndpoint(ctx: Context, networkId: string, dir?: string): Promise<void> {
  const live = ctx.metadataEndpoints.get(networkId);
  ctx.metadataEndpoints.delete(networkId);
  if (live) await close(live);
  if (dir) await stopDaemon(oldPidfile(dir), isOldProxy(oldPidfile(dir)));
}

/** Closes every endpoint of this process; the namespaces stay. */
export async function closeMetadataEndpoints(ctx: Context): Promise<void> {
  await Promise.all([...ctx.metadataEndpoints.keys()].map((id) => stopMetadataEndpoint(ctx, id)));
}
