import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../lib/log.ts';
import type { Store } from '../../lib/store/db.ts';
import type { RemoteConsoles } from '../api/remote-consoles.ts';
import type { VirtDriver } from '../virt/driver.ts';
import { novncRoutes } from './novnc.ts';
import { consolePaths, grantedServer } from './open.ts';
import { attachConsoleProxy, reachSocket } from './proxy.ts';
import { reachThroughRelay } from '../agent/console-relay.ts';
import { keyOfHost } from '../agent/keys.ts';
import type { HostCaller } from '../host-calls.ts';
import type { Server } from '../servers.ts';
import type { ConsoleTokens, ConsoleType } from './tokens.ts';

const socketKind = (type: ConsoleType) => (type === 'novnc' ? 'vnc' : 'serial');

/**
 * The consoles below the compute plugin's prefix (`<prefix>/console/…`): the noVNC page and
 * client, and the WebSocket proxy on the API's own server, closed with it. Returns what the API
 * routes need to hand out console URLs.
 */
export function serveConsoles(
  app: FastifyInstance,
  c: { store: Store; tokens: ConsoleTokens; driver: VirtDriver; local: (s: Server) => boolean; calls: HostCaller },
): RemoteConsoles {
  const paths = consolePaths(`${app.prefix}/console`);
  const socketPath = (serverId: string, type: ConsoleType) => c.driver.consoleSocket(serverId, socketKind(type));
  novncRoutes(app, '/console');
  const proxy = attachConsoleProxy(app.server, {
    tokens: c.tokens,
    paths,
    log: app.log as Logger,
    // This process's guests at their sockets; another host's through its relay, by a ticket it gives.
    reach: async (grant) => {
      const s = await grantedServer(c.store.db, grant);
      if (c.local(s)) return reachSocket(socketPath(s.id, grant.type));
      const key = s.host && (await keyOfHost(c.store.db, s.host));
      if (!key) throw new Error(`host ${s.host} has no key for its console relay`);
      return reachThroughRelay(await c.calls.openConsole(s, socketKind(grant.type)), { host: s.host!, key });
    },
  });
  // Before the server closes: it would wait on the consoles' upgraded connections otherwise.
  app.addHook('preClose', async () => proxy.close());
  return { store: c.store, tokens: c.tokens, paths, socketPath };
}
