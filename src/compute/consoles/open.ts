import { eq } from 'drizzle-orm';
import type { AuthContext } from '../../lib/http/auth.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import { getServer, type Server } from '../servers.ts';
import { servers } from '../tables.ts';
import type { ConsoleGrant, ConsoleTokens, ConsoleType } from './tokens.ts';

/** Where the console pages and sockets are, below the cloud's public URL. */
export interface ConsolePaths {
  /** The noVNC page; its `path` query names the WebSocket relative to the page, as Nova's does. */
  page: string;
  vnc: string;
  serial: string;
}

export const consolePaths = (base: string): ConsolePaths => ({ page: `${base}/vnc.html`, vnc: `${base}/websockify`, serial: `${base}/serial` });

/**
 * A URL that opens the server's console once, for a caller who may see the server (its project,
 * or the admin: anyone else gets the 404 of a server they cannot see). Only a running guest has a
 * console to open: 409 otherwise, as Nova answers.
 */
export async function openConsole(db: Db, tokens: ConsoleTokens, paths: ConsolePaths, auth: AuthContext, id: string, type: ConsoleType, publicUrl: string) {
  const s = running(await getServer(db, auth, id));
  const token = tokens.issue({ serverId: s.id, projectId: s.projectId, type, host: s.host });
  if (type === 'serial') {
    const ws = new URL(`${publicUrl}${paths.serial}`);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.searchParams.set('token', token);
    return ws.href;
  }
  const page = new URL(`${publicUrl}${paths.page}`);
  page.searchParams.set('path', `${paths.vnc.split('/').at(-1)}?token=${token}`);
  return page.href;
}

/** Only a running guest has a console: Nova's 409 otherwise. */
function running(s: Server): Server & { host: string } {
  if (s.vmState !== 'active' || s.powerState !== 1 || !s.host) throw conflict(`Instance ${s.id} is not ready: it is not running.`);
  return s as Server & { host: string };
}

/** The server a token opens, checked again when its connection comes: it may have stopped,
 * moved or gone since the URL was made. */
export async function grantedServer(db: Db, grant: ConsoleGrant): Promise<Server> {
  const [s] = await db.select().from(servers).where(eq(servers.id, grant.serverId));
  if (!s) throw notFound(`Instance ${grant.serverId} could not be found.`);
  const r = running(s);
  if (r.host !== grant.host) throw conflict(`Instance ${s.id} is no longer on host ${grant.host}.`);
  return r;
}
