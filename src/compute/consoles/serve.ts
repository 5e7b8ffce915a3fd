import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../lib/log.ts';
import type { Store } from '../../lib/store/db.ts';
import type { RemoteConsoles } from '../api/remote-consoles.ts';
import type { VirtDriver } from '../virt/driver.ts';
import { novncRoutes } from './novnc.ts';
import { consolePaths, grantedServer } from './open.ts';
import { attachConsoleProxy } from './proxy.ts';
import type { ConsoleTokens, ConsoleType } from './tokens.ts';

const socketKind = (type: ConsoleType) => (type === 'novnc' ? 'vnc' : 'serial');

/**
 * The consoles below the compute plugin's prefix (`<prefix>/console/…`): the noVNC page and
 * client, and the WebSocket proxy on the API's own server, closed with it. Returns what the API
 * routes need to hand out console URLs.
 */
export function serveConsoles(app: FastifyInstance, c: { store: Store; tokens: ConsoleTokens; driver: VirtDriver }): RemoteConsoles {
  const paths = consolePaths(`${app.prefix}/console`);
  const socketPath = (serverId: string, type: ConsoleType) => c.driver.consoleSocket(serverId, socketKind(type));
  novncRoutes(app, '/console');
  const proxy = attachConsoleProxy(app.server, {
    tokens: c.tokens,
    paths,
    log: app.log as Logger,
    // All in one: every guest runs on this host, so its socket is here.
    socketOf: async (grant) => socketPath((await grantedServer(c.store.db, grant)).id, grant.type),
  });
  // Before the server closes: it would wait on the consoles' upgraded connections otherwise.
  app.addHook('preClose', async () => proxy.close());
  return { store: c.store, tokens: c.tokens, paths, socketPath };
}
