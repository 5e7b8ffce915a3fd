import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../lib/errors.ts';

/** noVNC's package root: its own files, not a CDN's, so that a cloud without Internet access has
 * consoles and every cloud runs the client version it was tested with. */
const NOVNC = dirname(dirname(createRequire(import.meta.url).resolve('@novnc/novnc')));
/** The parts of the package a browser loads: the RFB client and the inflate code it imports. */
const SERVED = ['core', 'vendor'];

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.json': 'application/json' };

/**
 * The console page: noVNC's RFB client over the whole window, connected to the WebSocket that the
 * `path` query names relative to the page (Nova's vnc_lite.html takes the same). `data-state` on
 * the body says where the connection is, for people and for tests.
 */
const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>noVNC</title>
<style>
html, body { margin: 0; height: 100%; background: #1e1e1e; color: #ddd; font: 14px sans-serif; }
#status { position: fixed; top: 0; right: 0; padding: 2px 8px; background: #0008; }
#screen { width: 100%; height: 100%; }
</style>
</head>
<body data-state="connecting">
<div id="status">Connecting…</div>
<div id="screen"></div>
<script type="module">
import RFB from './novnc/core/rfb.js';
const status = (state, text) => { document.body.dataset.state = state; document.getElementById('status').textContent = text; };
const path = new URLSearchParams(location.search).get('path') ?? '';
const url = new URL(path, location.href);
url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const rfb = new RFB(document.getElementById('screen'), url.href, { wsProtocols: ['binary'] });
rfb.scaleViewport = true;
rfb.addEventListener('connect', () => status('connected', 'Connected'));
rfb.addEventListener('disconnect', (e) => status('disconnected', e.detail.clean ? 'Disconnected' : 'The console closed: its link may be spent or expired; ask for a new one.'));
</script>
</body>
</html>
`;

/** The noVNC page and the client's modules, below the compute API's prefix. Public: the page
 * holds nothing, and the WebSocket it opens needs the token. Logged at no level, since the page's
 * URL carries the token in its query. */
export function novncRoutes(app: FastifyInstance, base: string): void {
  const quiet = { config: { public: true }, logLevel: 'silent' } as const;
  app.get(`${base}/vnc.html`, quiet, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));
  app.get(`${base}/novnc/*`, quiet, async (request, reply) => {
    const rel = normalize((request.params as { '*': string })['*']);
    // Nothing else of the package, nor outside it; a 404 in the compute API's format, as any other.
    if (!SERVED.includes(rel.split(sep)[0]!) || rel.split(sep).includes('..')) throw notFound('The resource could not be found.');
    const body = await readFile(join(NOVNC, rel)).catch(() => undefined);
    if (!body) throw notFound('The resource could not be found.');
    return reply.type(TYPES[extname(rel)] ?? 'application/octet-stream').send(body);
  });
}
