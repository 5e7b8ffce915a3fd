import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pipeline, type Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { ApiError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { ConsolePaths } from './open.ts';
import type { ConsoleGrant, ConsoleTokens, ConsoleType } from './tokens.ts';

export interface ConsoleProxyOptions {
  tokens: ConsoleTokens;
  paths: ConsolePaths;
  /** A connection to the granted console, once the server is known to run there still. */
  reach(grant: ConsoleGrant): Promise<Socket>;
  log: Logger;
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}

/** The guest's console socket on this host, connected; rejects when nothing answers there. */
export const reachSocket = (path: string) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s)).once('error', reject);
  });

/**
 * The WebSocket side of the consoles, on the API's own HTTP server: an upgrade to the VNC or the
 * serial path spends its token, and the WebSocket's bytes then flow to and from the guest's
 * console (RFB for noVNC, the raw serial line), here or through its host's relay. The token is
 * read from the query and never logged; these requests never reach Fastify, so no request log
 * line carries it either.
 */
export function attachConsoleProxy(server: Server, o: ConsoleProxyOptions): { close(): void } {
  // noVNC asks for the 'binary' subprotocol; serial clients may ask for none.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });
  const open = new Set<Duplex>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const type: ConsoleType | undefined = url.pathname === o.paths.vnc ? 'novnc' : url.pathname === o.paths.serial ? 'serial' : undefined;
    if (!type) {
      // Another listener may serve this path; alone, nobody would answer it.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'There is no WebSocket here.');
      return;
    }
    socket.on('error', () => socket.destroy());
    const grant = o.tokens.take(url.searchParams.get('token') ?? '');
    if (!grant || grant.type !== type) {
      o.log.info({ path: url.pathname }, 'console connection refused: token invalid, spent or expired');
      return refuse(socket, 401, 'The console token is invalid, spent or expired.');
    }
    o.reach(grant).then(
      (guest) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          const stream = createWebSocketStream(ws);
          open.add(stream);
          o.log.info({ server: grant.serverId, type }, 'console connection opened');
          pipeline(stream, guest, stream, (err) => {
            open.delete(stream);
            o.log.info({ server: grant.serverId, type, err: err?.message }, 'console connection closed');
          });
        }),
      (err: Error) => {
        o.log.info({ server: grant.serverId, type, err: err.message }, 'console connection refused: the guest is not reachable');
        refuse(socket, err instanceof ApiError ? err.status : 503, `The console of server ${grant.serverId} is not available: ${err.message}`);
      },
    );
  };
  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const s of open) s.destroy();
      wss.close();
    },
  };
}
