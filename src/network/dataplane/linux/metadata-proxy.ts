// The metadata proxy of one network, a script of its own with no dependency: it runs inside the
// network's DHCP namespace, answers http://169.254.169.254 there, and forwards each request over
// the metadata service's unix socket (a path on the filesystem reaches across namespaces), saying
// which network asked and from which address, the two things that tell an instance apart.
//
//   node metadata-proxy.js --network=<id> --socket=<path> --pidfile=<path> --log=<path> [--daemon]
//
// With --daemon it starts itself detached and returns once the copy listens, as dnsmasq does.

import { spawn } from 'node:child_process';
import { openSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const LISTEN = { host: '169.254.169.254', port: 80 };
/** Headers the proxy sets itself, and hop-by-hop ones that belong to one connection only. */
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

const { values } = parseArgs({
  options: { network: { type: 'string' }, socket: { type: 'string' }, pidfile: { type: 'string' }, log: { type: 'string' }, daemon: { type: 'boolean' } },
});
const { network, socket, pidfile, log } = values;
if (!network || !socket || !pidfile || !log) {
  console.error('usage: metadata-proxy --network=<id> --socket=<path> --pidfile=<path> --log=<path> [--daemon]');
  process.exit(2);
}

const keep = (headers: IncomingHttpHeaders): IncomingHttpHeaders => Object.fromEntries(Object.entries(headers).filter(([name]) => !DROPPED.has(name)));

function daemonize(): void {
  const out = openSync(log!, 'a');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2).filter((a) => a !== '--daemon')], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
  });
  child.on('message', (msg) => {
    if (msg === 'ready') process.exit(0);
    console.error(`metadata proxy: ${String(msg)}`);
    process.exit(1);
  });
  child.on('exit', (code) => {
    console.error(`metadata proxy exited (${code}) before it listened; see ${log}`);
    process.exit(1);
  });
}

function serve(): void {
  const server = createServer((req, res) => {
    const headers = { ...keep(req.headers), 'x-nubo-network-id': network, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = request({ socketPath: socket, method: req.method, path: req.url, headers, timeout: 30_000 }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, keep(answer.headers));
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('the metadata service did not answer in time')));
    upstream.on('error', (err) => {
      console.error(`${new Date().toISOString()} ${req.method} ${req.url}: ${err.message}`);
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end('metadata service unavailable\n');
    });
    req.pipe(upstream);
  });
  server.on('error', (err) => {
    console.error(`metadata proxy: ${err.message}`);
    if (process.send) process.send(err.message, () => process.exit(1));
    else process.exit(1);
  });
  server.listen(LISTEN.port, LISTEN.host, () => {
    writeFileSync(`${pidfile}.part`, `${process.pid}\n`);
    renameSync(`${pidfile}.part`, pidfile!);
    // The launcher exits on this word; the channel then closes and the proxy runs on alone.
    process.send?.('ready', () => process.disconnect());
  });
  process.on('SIGTERM', () => process.exit(0));
}

if (values.daemon) daemonize();
else serve();
