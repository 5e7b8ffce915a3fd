import { ComputeClient } from './compute.ts';
import { ClientError } from './errors.ts';
import type { Session } from './session.ts';

// Nova's host-level APIs (os-services, os-hypervisors, os-availability-zone, os-aggregates) and
// server groups, at the microversion the rest of the compute client speaks.

export interface ComputeService {
  id: number | string;
  binary: string;
  host: string;
  zone: string;
  status: string;
  state: string;
  updated_at: string | null;
  disabled_reason: string | null;
  forced_down?: boolean;
}

export type Hypervisor = Record<string, unknown> & { id: number | string; hypervisor_hostname: string; service: { id: number | string; host: string } };

export interface Aggregate {
  id: number;
  name: string;
  availability_zone: string | null;
  hosts: string[];
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  deleted_at: string | null;
  deleted: boolean;
  uuid?: string;
}

export interface ServerGroup {
  id: string;
  name: string;
  policies?: string[];
  policy?: string;
  rules?: Record<string, unknown>;
  members: string[];
  metadata?: Record<string, string>;
  project_id?: string;
  user_id?: string;
}

export interface AvailabilityZone {
  zoneName: string;
  zoneState: { available: boolean };
  hosts: Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>> | null;
}

export class ComputeHostsClient {
  constructor(private readonly session: Session) {}

  private call<T>(method: string, path: string, body?: unknown, query?: Record<string, string | undefined>): Promise<T> {
    return new ComputeClient(this.session).request<T>(method, `${this.session.endpoint('compute')}${path}`, { body, query });
  }

  async services(query: { host?: string; binary?: string } = {}): Promise<ComputeService[]> {
    return (await this.call<{ services: ComputeService[] }>('GET', '/os-services', undefined, query)).services;
  }

  /** The 2.1 os-services update: enable, disable (with a reason) or force down, by host and binary. */
  async updateService(action: 'enable' | 'disable' | 'disable-log-reason' | 'force-down', body: Record<string, unknown>): Promise<void> {
    await this.call('PUT', `/os-services/${action}`, body);
  }

  async hypervisors(detail: boolean): Promise<Hypervisor[]> {
    return (await this.call<{ hypervisors: Hypervisor[] }>('GET', detail ? '/os-hypervisors/detail' : '/os-hypervisors')).hypervisors;
  }

  async hypervisor(id: string | number): Promise<Hypervisor> {
    return (await this.call<{ hypervisor: Hypervisor }>('GET', `/os-hypervisors/${id}`)).hypervisor;
  }

  /** From 2.88 the uptime is in the hypervisor itself, its own route gone. */
  async hypervisorUptime(id: string | number): Promise<string> {
    const own = await new ComputeClient(this.session).atLeast('2.88');
    return (await this.call<{ hypervisor: { uptime: string } }>('GET', `/os-hypervisors/${id}${own ? '' : '/uptime'}`)).hypervisor.uptime;
  }

  /** Gone from 2.88, which novaclient refuses before asking. */
  async hypervisorStatistics(): Promise<Record<string, number>> {
    if (await new ComputeClient(this.session).atLeast('2.88')) throw new ClientError("The 'statistics' API is removed in API version 2.88 or later.");
    return (await this.call<{ hypervisor_statistics: Record<string, number> }>('GET', '/os-hypervisors/statistics')).hypervisor_statistics;
  }

  /** A hypervisor by ID, else the one whose hostname is the name given. */
  async findHypervisor(ref: string): Promise<Hypervisor> {
    const all = await this.hypervisors(false);
    const found = all.find((h) => String(h.id) === ref) ?? all.find((h) => h.hypervisor_hostname === ref);
    if (!found) throw new ClientError(`No hypervisor with a name or ID of '${ref}' exists.`);
    return this.hypervisor(found.id);
  }

  async availabilityZones(detail: boolean): Promise<AvailabilityZone[]> {
    return (await this.call<{ availabilityZoneInfo: AvailabilityZone[] }>('GET', detail ? '/os-availability-zone/detail' : '/os-availability-zone'))
      .availabilityZoneInfo;
  }

  async aggregates(): Promise<Aggregate[]> {
    return (await this.call<{ aggregates: Aggregate[] }>('GET', '/os-aggregates')).aggregates;
  }

  async aggregate(id: number): Promise<Aggregate> {
    return (await this.call<{ aggregate: Aggregate }>('GET', `/os-aggregates/${id}`)).aggregate;
  }

  /** An aggregate by ID or name, as openstacksdk's find_aggregate looks it up. */
  async findAggregate(ref: string): Promise<Aggregate> {
    const all = await this.aggregates();
    const found = all.find((a) => String(a.id) === ref) ?? all.filter((a) => a.name === ref)[0];
    if (!found) throw new ClientError(`No Aggregate found for ${ref}`);
    return found;
  }

  async createAggregate(name: string, zone?: string): Promise<Aggregate> {
    return (await this.call<{ aggregate: Aggregate }>('POST', '/os-aggregates', { aggregate: { name, availability_zone: zone } })).aggregate;
  }

  async updateAggregate(id: number, changes: { name?: string; availability_zone?: string }): Promise<Aggregate> {
    return (await this.call<{ aggregate: Aggregate }>('PUT', `/os-aggregates/${id}`, { aggregate: changes })).aggregate;
  }

  async aggregateAction(id: number, body: Record<string, unknown>): Promise<Aggregate> {
    return (await this.call<{ aggregate: Aggregate }>('POST', `/os-aggregates/${id}/action`, body)).aggregate;
  }

  async deleteAggregate(id: number): Promise<void> {
    await this.call('DELETE', `/os-aggregates/${id}`);
  }

  async serverGroups(query: { all_projects?: string; limit?: string; offset?: string } = {}): Promise<ServerGroup[]> {
    return (await this.call<{ server_groups: ServerGroup[] }>('GET', '/os-server-groups', undefined, query)).server_groups;
  }

  /** A server group by ID, else by name, as openstacksdk's find_server_group looks it up. */
  async findServerGroup(ref: string): Promise<ServerGroup> {
    try {
      return (await this.call<{ server_group: ServerGroup }>('GET', `/os-server-groups/${encodeURIComponent(ref)}`)).server_group;
    } catch {
      const named = (await this.serverGroups()).filter((g) => g.name === ref);
      if (named.length > 1) throw new ClientError(`More than one ServerGroup exists with the name '${ref}'.`);
      if (!named[0]) throw new ClientError(`No ServerGroup found for ${ref}`);
      return named[0];
    }
  }

  /** From 2.64 a group has one policy and its rules; before, a list of policies. */
  async createServerGroup(name: string, policy: string, rules?: Record<string, number>): Promise<ServerGroup> {
    const single = await new ComputeClient(this.session).atLeast('2.64');
    const group = single ? { name, policy, ...(rules ? { rules } : {}) } : { name, policies: [policy] };
    return (await this.call<{ server_group: ServerGroup }>('POST', '/os-server-groups', { server_group: group })).server_group;
  }

  async deleteServerGroup(id: string): Promise<void> {
    await this.call('DELETE', `/os-server-groups/${id}`);
  }
}
