import type { Dataplane, DataplaneInventory, DhcpSpec, NetworkSpec, PortSpec, RouterSpec } from './driver.ts';

/** A data plane in memory, for API and scale tests: it records the specs it was given, so tests can
 * see what the agent asked for. Never what makes a feature done. */
export class FakeDataplane implements Dataplane {
  readonly networks = new Map<string, NetworkSpec>();
  readonly dhcp = new Map<string, DhcpSpec>();
  readonly ports = new Map<string, PortSpec>();
  readonly routers = new Map<string, RouterSpec>();
  firewall: PortSpec[] = [];

  async ensureNetwork(spec: NetworkSpec) {
    this.networks.set(spec.id, spec);
  }
  async deleteNetwork(id: string) {
    this.networks.delete(id);
  }
  async ensureDhcp(spec: DhcpSpec) {
    this.dhcp.set(spec.networkId, spec);
  }
  async deleteDhcp(networkId: string) {
    this.dhcp.delete(networkId);
  }
  async servedLeases(networkId: string) {
    return (this.dhcp.get(networkId)?.hosts ?? []).map(({ mac, ip }) => ({ mac, ip }));
  }
  async ensurePort(spec: PortSpec) {
    if (!this.networks.has(spec.networkId)) throw new Error(`port ${spec.id}: network ${spec.networkId} is not wired`);
    this.ports.set(spec.id, spec);
  }
  async deletePort(id: string) {
    this.ports.delete(id);
  }
  async ensureRouter(spec: RouterSpec) {
    this.routers.set(spec.id, spec);
  }
  async deleteRouter(id: string) {
    this.routers.delete(id);
  }
  async applyFirewall(ports: PortSpec[]) {
    this.firewall = ports;
  }
  async isFiltered(portId: string) {
    return this.firewall.some((p) => p.id === portId && p.security);
  }
  async inventory(): Promise<DataplaneInventory> {
    return { networks: [...this.networks.keys()], dhcp: [...this.dhcp.keys()], ports: [...this.ports.keys()], routers: [...this.routers.keys()] };
  }
}
