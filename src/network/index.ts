import type { FastifyInstance } from 'fastify';
import { and, eq, like } from 'drizzle-orm';
import { useErrorStyle } from '../lib/http/errors.ts';
import type { Db, Store } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import type { Controller } from '../lib/reconcile/controller.ts';
import type { Dataplane } from './dataplane/driver.ts';
import { startNetworkAgent, type NetworkAgentOptions } from './agent/agent.ts';
import { networkRoutes } from './api/networks.ts';
import { subnetRoutes } from './api/subnets.ts';
import { portRoutes } from './api/ports.ts';
import { quotaRoutes } from './api/quotas.ts';
import { extensionRoutes } from './api/extensions.ts';
import { securityGroupRoutes } from './api/security-groups.ts';
import { routerRoutes } from './api/routers.ts';
import { floatingIpRoutes } from './api/floating-ips.ts';
import { rbacPolicyRoutes } from './api/rbac-policies.ts';
import { subnetPoolRoutes } from './api/subnet-pools.ts';
import { addressScopeRoutes } from './api/address-scopes.ts';
import { agentRoutes } from './api/agents.ts';
import { qosRoutes } from './api/qos.ts';
import { agentLiveness, startHeartbeat } from './agents.ts';
import { ipAllocations, ports, type NetworkType } from './tables.ts';
import './policy.ts';

/** How this cloud lays out its networks. */
export interface NetworkSettings {
  /** The segment type of networks created without provider attributes. */
  tenantNetworkType: Extract<NetworkType, 'vxlan' | 'local'>;
  /** The physical networks flat and vlan networks may use (the host maps each to a bridge). */
  physicalNetworks: string[];
  /** The MTU of the physical networks; VXLAN networks get 50 bytes less. */
  mtu: number;
  /** The VNIs tenant vxlan networks are given, lowest free first (ML2's vni_ranges). An admin's
   * provider network may name any VNI. */
  vniRanges: [number, number][];
}

export const NETWORK_DEFAULTS: NetworkSettings = { tenantNetworkType: 'vxlan', physicalNetworks: ['physnet1'], mtu: 1500, vniRanges: [[1, 65535]] };

/** What the routes need: the store and the settings. */
export interface NetworkApi {
  store: Store;
  settings: NetworkSettings;
}

export interface NetworkOptions {
  store: Store;
  settings: NetworkSettings;
  dataplane: Dataplane;
  /** This host's name: the ports bound to it (binding:host_id) are wired here. */
  host: string;
  /** Run this host's agent (the all-in-one, default) or not (a multi-host controller). */
  agent?: boolean;
  /** Seconds between the agents' heartbeats, and without one before an agent is shown dead
   * (Neutron's report_interval and agent_down_time; default 30 and 75). */
  reportIntervalS?: number;
  agentDownTimeS?: number;
  log: Logger;
}

export interface Network extends NetworkApi {
  dataplane: Dataplane;
  /** This host's agent; a controller has none. */
  agent?: Controller;
  /** Stops the agent; what it wired stays, and is reconciled again at the next start. */
  close(): Promise<void>;
}

/** The network service: its API's state and, unless told not to, this host's agent. */
export async function startNetwork(opts: NetworkOptions): Promise<Network> {
  if (opts.agentDownTimeS) agentLiveness.downAfterMs = opts.agentDownTimeS * 1000;
  const node = opts.agent === false ? undefined : await startNetworkNode(opts);
  const close = async () => {
    await node?.close();
    await opts.dataplane.close();
  };
  return { store: opts.store, settings: opts.settings, dataplane: opts.dataplane, agent: node?.agent, close };
}

/** What runs on every host that wires ports: the agent and the heartbeat of its agents' records. */
export async function startNetworkNode(
  opts: Pick<NetworkOptions, 'store' | 'dataplane' | 'host' | 'reportIntervalS' | 'log'> &
    Pick<NetworkAgentOptions, 'tunnelIp' | 'networkHost' | 'bindServicePorts'>,
): Promise<{ agent: Controller; close(): Promise<void> }> {
  const { store, dataplane, host, log, tunnelIp, networkHost, bindServicePorts } = opts;
  const agent = await startNetworkAgent({ store, dataplane, host, metadata: true, tunnelIp, networkHost, bindServicePorts, log });
  const heartbeat = await startHeartbeat(store, host, opts.reportIntervalS && opts.reportIntervalS * 1000, { networkHost, tunnelIp });
  const close = async () => {
    heartbeat.stop();
    await agent.stop();
  };
  return { agent, close };
}

/** The server (and the port's project) whose NIC has address ip on a network: how the metadata
 * service knows who asks. */
export async function serverAt(db: Db, networkId: string, ip: string): Promise<{ serverId: string; projectId: string } | undefined> {
  const [row] = await db
    .select({ serverId: ports.deviceId, projectId: ports.projectId })
    .from(ipAllocations)
    .innerJoin(ports, eq(ports.id, ipAllocations.portId))
    .where(and(eq(ipAllocations.networkId, networkId), eq(ipAllocations.ipAddress, ip), like(ports.deviceOwner, 'compute:%')));
  return row?.serverId ? row : undefined;
}

/** The resources listed at /v2.0/: each name and the path of its collection. */
const RESOURCES: [name: string, path: string][] = [
  ['network', 'networks'],
  ['subnet', 'subnets'],
  ['port', 'ports'],
  ['router', 'routers'],
  ['floatingip', 'floatingips'],
  ['security-group', 'security-groups'],
  ['security-group-rule', 'security-group-rules'],
  ['quota', 'quotas'],
  ['rbac_policy', 'rbac-policies'],
  ['subnetpool', 'subnetpools'],
  ['address_scope', 'address-scopes'],
  ['agent', 'agents'],
  ['availability_zone', 'availability_zones'],
  ['policy', 'qos/policies'],
  ['rule_type', 'qos/rule-types'],
];

/** Neutron v2.0, mounted under /networking. */
export function networkPlugin(net: NetworkApi) {
  return async (app: FastifyInstance) => {
    useErrorStyle(app, 'neutron');
    app.get('/', { config: { public: true } }, async (request) => ({
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${request.publicUrl}/networking/v2.0/` }] }],
    }));
    await app.register(
      async (v2) => {
        // Neutron answers every path with a `.json` suffix too (/v2.0/networks.json).
        v2.addHook('onRoute', (route) => {
          const path = route.routePath;
          if (route.method === 'HEAD' || !path || path === '/' || path.endsWith('.json')) return;
          v2.route({ ...route, url: `${path}.json` });
        });
        v2.get('/', { config: { public: true } }, async (request) => ({
          resources: RESOURCES.map(([name, path]) => ({
            name,
            collection: path.replaceAll('-', '_'),
            links: [{ rel: 'self', href: `${request.publicUrl}/networking/v2.0/${path}` }],
          })),
        }));
        networkRoutes(v2, net);
        subnetRoutes(v2, net);
        portRoutes(v2, net);
        quotaRoutes(v2, net);
        extensionRoutes(v2, net);
        securityGroupRoutes(v2, net);
        routerRoutes(v2, net);
        floatingIpRoutes(v2, net);
        rbacPolicyRoutes(v2, net);
        subnetPoolRoutes(v2, net);
        addressScopeRoutes(v2, net);
        agentRoutes(v2, net);
        qosRoutes(v2, net);
      },
      { prefix: '/v2.0' },
    );
  };
}
