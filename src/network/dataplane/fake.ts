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
  async ensurePorts(specs: PortSpec[]) {
    const loose = specs.find((s) => !this.networks.has(s.networkId));
    if (loose) throw new Error(`port ${loose.id}: network ${loose.networkId} is not wired`);
    for (const spec of specs) this.ports.set(spec.id, spec);
  }
  async deletePorts(ids: string[]) {
    for (const id of ids) this.ports.delete(id);
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
  async close() {}
  async inventory(): Promise<DataplaneInventory> {
    return { networks: [...this.networks.keys()], dhcp: [...this.dhcp.keys()], ports: [...this.ports.keys()], routers: [...this.routers.keys()] };
  }
}
