import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { admin, anyOf, definePolicy, projectMember } from '../../lib/http/policy.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { Store } from '../../lib/store/db.ts';
import { openConsole, type ConsolePaths } from '../consoles/open.ts';
import type { ConsoleTokens, ConsoleType } from '../consoles/tokens.ts';
import { servedFrom, versionOf } from './microversion.ts';

definePolicy({
  'compute:os-remote-consoles': anyOf(admin, projectMember),
  'compute:os-console-auth-tokens': admin,
});

/** What the console routes and the old console actions share. */
export interface RemoteConsoles {
  store: Store;
  tokens: ConsoleTokens;
  paths: ConsolePaths;
  /** The unix socket a token's console connects to, for the admin's view of the token. */
  socketPath(serverId: string, type: ConsoleType): string;
}

// Nova's schema names every protocol and type it knows; Nubo serves two pairs of them and
// answers the others as Nova answers a console its deployment has turned off.
const PROTOCOLS = ['vnc', 'spice', 'rdp', 'serial', 'mks'];
const TYPES = ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial', 'webmks'];
const SERVED: Record<string, ConsoleType> = { 'vnc/novnc': 'novnc', 'serial/serial': 'serial' };

/** The console type a protocol and type name, or Nova's 400 for a pair not served. */
export function consoleTypeOf(protocol: string, type: string): ConsoleType {
  const served = SERVED[`${protocol}/${type}`];
  if (served) return served;
  if (!TYPES.includes(type) || !PROTOCOLS.includes(protocol)) throw badRequest(`Invalid console type ${type} for protocol ${protocol}.`);
  throw badRequest(`Unavailable console type ${type}.`);
}

const RemoteConsole = Type.Object(
  {
    remote_console: Type.Object(
      { protocol: Type.Union(PROTOCOLS.map((p) => Type.Literal(p))), type: Type.Union(TYPES.map((t) => Type.Literal(t))) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export function remoteConsoleRoutes(app: FastifyInstance, c: RemoteConsoles): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/servers/:server_id/remote-consoles',
    { config: { policy: 'compute:os-remote-consoles' }, schema: { params: Type.Object({ server_id: Type.String() }), body: RemoteConsole } },
    async (request) => {
      servedFrom(request, '2.6');
      const { protocol, type } = request.body.remote_console;
      // mks came with 2.8: before it, Nova's schema refuses the name.
      if (protocol === 'mks' && versionOf(request).below('2.8')) throw badRequest(`Invalid input for field/attribute protocol. Value: ${protocol}.`);
      const url = await openConsole(c.store.db, c.tokens, c.paths, authOf(request), request.params.server_id, consoleTypeOf(protocol, type), request.publicUrl);
      return { remote_console: { protocol, type, url } };
    },
  );

  api.get(
    '/os-console-auth-tokens/:console_token',
    // Logged at no level: its URL is the token.
    { config: { policy: 'compute:os-console-auth-tokens' }, logLevel: 'silent', schema: { params: Type.Object({ console_token: Type.String() }) } },
    async (request) => {
      const grant = c.tokens.peek(request.params.console_token);
      if (!grant) throw notFound('The token has expired or is invalid.');
      // Before 2.31 Nova shows only RDP tokens, which Nubo never makes.
      if (versionOf(request).below('2.31')) throw badRequest('The requested console type details are not accessible');
      // The console is a unix socket on the host: no port, its path where Nova puts a proxy's path.
      return { console: { instance_uuid: grant.serverId, host: grant.host, port: null, internal_access_path: c.socketPath(grant.serverId, grant.type) } };
    },
  );
}

/** The console actions of 2.1 to 2.5 (os-getVNCConsole, os-getSerialConsole), which 2.6's
 * remote-consoles replaced: Nova's 404 from 2.6 on. */
export async function legacyConsole(c: RemoteConsoles, request: Parameters<typeof versionOf>[0], id: string, protocol: 'vnc' | 'serial', type: string) {
  if (versionOf(request).atLeast('2.6')) throw notFound('The resource could not be found.');
  const url = await openConsole(c.store.db, c.tokens, c.paths, authOf(request), id, consoleTypeOf(protocol, type), request.publicUrl);
  return { console: { type, url } };
}
