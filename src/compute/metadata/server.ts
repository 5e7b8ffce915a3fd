// The metadata service: the network's proxies forward each guest's request to this unix socket,
// naming the network it came from and the address that asked. That pair, and nothing the guest
// can choose, says which server is asking; it is told about itself only.

import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import type { Logger } from '../../lib/log.ts';
import { serverAt } from '../../network/index.ts';
import { serverNetworkData, type NetworkData } from '../../network/network-data.ts';
import { servers } from '../tables.ts';
import type { Server } from '../servers.ts';
import { metaData, openstackTree, userData } from './content.ts';
import { isSignal, relaySignal } from './signal-relay.ts';

/** The headers the proxy sets (it drops any copy the guest sent). */
export const NETWORK_HEADER = 'x-nubo-network-id';
export const ADDRESS_HEADER = 'x-forwarded-for';

/** The OpenStack tree's versions that clients ask for; they all get the latest content. */
const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', 'latest'];
const EC2_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04', 'latest'];

/** The EC2-style meta-data tree of a server: leaf paths → values. */
function ec2Tree(s: Server, ip: string): Record<string, string> {
  const m = metaData(s);
  const tree: Record<string, string> = {
    'ami-id': s.imageId,
    'ami-launch-index': '0',
    hostname: s.hostname,
    'local-hostname': s.hostname,
    'public-hostname': s.hostname,
    'instance-id': s.id,
    'instance-type': s.flavor.name,
    'local-ipv4': ip,
    'placement/availability-zone': m.availability_zone,
    'reservation-id': s.id,
    'security-groups': s.securityGroups.join('\n'),
  };
  if (s.keyName && s.keyData) tree['public-keys/0/openssh-key'] = s.keyData;
  return tree;
}

/** What a path names in a tree of leaves: the leaf's value, or a directory's listing. */
function lookup(tree: Record<string, string | Buffer>, path: string): string | Buffer | undefined {
  const clean = path.replace(/^\/+|\/+$/g, '');
  if (clean in tree) return tree[clean];
  const prefix = clean ? `${clean}/` : '';
  const children = new Set<string>();
  for (const key of Object.keys(tree)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    children.add(rest.includes('/') ? `${rest.slice(0, rest.indexOf('/'))}/` : rest);
  }
  if (!children.size) return undefined;
  return [...children].sort().join('\n');
}

/** The answer to a path for a server, or undefined for 404. Its networks are read only for the
 * OpenStack tree, the one place that shows them. */
async function answer(s: Server, network: () => Promise<NetworkData>, ip: string, path: string): Promise<string | Buffer | undefined> {
  const [top, version, ...rest] = path.split('/').filter(Boolean);
  if (top === 'openstack') {
    if (!version) return OPENSTACK_VERSIONS.join('\n');
    if (!OPENSTACK_VERSIONS.includes(version)) return undefined;
    return lookup(openstackTree(s, await network()), rest.join('/'));
  }
  if (top === undefined) return EC2_VERSIONS.join('\n');
  if (!EC2_VERSIONS.includes(top)) return undefined;
  if (!version) return 'meta-data/\nuser-data';
  if (version === 'user-data') return userData(s);
  if (version !== 'meta-data') return undefined;
  // EC2 lists public keys by index and name.
  if (rest.join('/') === 'public-keys') return s.keyName && s.keyData ? `0=${s.keyName}` : undefined;
  return lookup(ec2Tree(s, ip), rest.join('/'));
}

export interface MetadataServer {
  close(): Promise<void>;
}

/** Serves the metadata API on a unix socket. */
export async function startMetadataServer(db: Db, socketPath: string, log: Logger): Promise<MetadataServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=UTF-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const networkId = req.headers[NETWORK_HEADER];
    // The proxy sets exactly one address; a list would mean a header it failed to replace.
    const ip = req.headers[ADDRESS_HEADER];
    if (typeof networkId !== 'string' || typeof ip !== 'string' || ip.includes(',')) return send(400, 'Bad Request');
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD' && !isSignal(req.method, path)) return send(405, 'Method Not Allowed');
    const at = await serverAt(db, networkId, ip);
    const [s] = at ? await db.select().from(servers).where(eq(servers.id, at.serverId)) : [];
    // A port's device_id is its owner's to write: only a server of the port's own project counts,
    // so that no one can point a port of theirs at someone else's server.
    if (!s || s.deleting || s.projectId !== at!.projectId) {
      log.warn({ networkId, ip }, 'metadata asked by an address that is no server');
      return send(404, 'Not Found');
    }
    if (isSignal(req.method, path)) {
      const relayed = await relaySignal(db, req, path);
      return send(relayed.status, relayed.body, relayed.type);
    }
    const body = await answer(s, () => serverNetworkData(db, s), ip, path);
    if (body === undefined) return send(404, 'Not Found');
    send(200, body, path.endsWith('.json') ? 'application/json' : 'text/plain; charset=UTF-8');
  };
  const server: HttpServer = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'metadata request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
