import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tapName } from '../../src/network/dataplane/driver.ts';
import { inNs, sh, type hostNamespace } from './netns.ts';

export interface WebServer {
  ns: string;
  ip: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A namespace standing for a guest on private-net (seedNetworks) or the network given, its NIC a port of the cloud
 * bound to `computeHost` and wired by the network agent, serving its own name over HTTP on port 80
 * with busybox httpd from a directory under `work` once started (and, 4 s later, at /cgi-bin/slow).
 */
export async function webServer(
  cloud: { json: (...args: string[]) => Promise<any>; ok: (...args: string[]) => Promise<string> },
  host: Awaited<ReturnType<typeof hostNamespace>>,
  computeHost: string,
  work: string,
  name: string,
  net = { network: 'private-net', gateway: '192.168.10.1' },
): Promise<WebServer> {
  const port = await cloud.json('port', 'create', '--network', net.network, '--device-owner', 'compute:nova', '--disable-port-security', `${name}-port`);
  const ns = await host.endpoint(name);
  const ip = port.fixed_ips[0].ip_address as string;
  await inNs(host.name, 'ip', 'link', 'add', tapName(port.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address, 'up');
  await inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  await inNs(ns, 'ip', 'route', 'add', 'default', 'via', net.gateway);
  await cloud.ok('port', 'set', '--host', computeHost, port.id);
  const www = join(work, name);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), `${name}\n`);
  // A page that takes its time: a request under way across a change of the load balancer.
  mkdirSync(join(www, 'cgi-bin'));
  writeFileSync(join(www, 'cgi-bin', 'slow'), `#!/bin/sh\nsleep 4\nprintf 'Content-Type: text/plain\\r\\n\\r\\nslow ${name}\\n'\n`, { mode: 0o755 });
  return {
    ns,
    ip,
    // busybox httpd daemonizes; it is the only process of the namespace.
    start: async () => {
      await inNs(ns, 'busybox', 'httpd', '-p', '80', '-h', www);
    },
    stop: async () => {
      const { stdout } = await sh('ip', 'netns', 'pids', ns);
      for (const pid of stdout.split(/\s+/).filter(Boolean)) await sh('kill', '-9', pid).catch(() => undefined);
    },
  };
}
