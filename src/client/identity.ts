import type { appCredentialView, domainView, projectView, roleView, userView } from '../identity/api/views.ts';
import type { groupView } from '../identity/api/groups.ts';
import type { regionView } from '../identity/api/regions.ts';
import type { credentialView } from '../identity/api/credentials.ts';
import type { ec2View } from '../identity/api/ec2.ts';
import type { trustView } from '../identity/api/trusts.ts';
import { Collection } from './collection.ts';
import type { Query } from './http.ts';
import { identityV3, type Session } from './session.ts';

// Resource shapes as the identity service writes them (its views are the one source of truth).
export type Project = ReturnType<typeof projectView>;
export type User = ReturnType<typeof userView>;
export type Role = ReturnType<typeof roleView>;
export type Domain = ReturnType<typeof domainView>;
export type Group = ReturnType<typeof groupView>;
export type ApplicationCredential = ReturnType<typeof appCredentialView> & { secret?: string };

export interface Service {
  id: string;
  type: string;
  name: string;
  description: string | null;
  enabled: boolean;
}

export interface Endpoint {
  id: string;
  service_id: string;
  interface: string;
  region: string | null;
  region_id: string | null;
  url: string;
  enabled: boolean;
}

export type Region = ReturnType<typeof regionView>;
export type Credential = ReturnType<typeof credentialView>;
export type Ec2Credential = ReturnType<typeof ec2View>;
export type Trust = ReturnType<typeof trustView>;

export interface TrustFields {
  trustor_user_id: string;
  trustee_user_id: string;
  project_id?: string;
  impersonation: boolean;
  roles?: { id?: string; name?: string }[];
  expires_at?: string;
}

export interface RegionFields {
  id?: string;
  description?: string;
  parent_region_id?: string | null;
  /** Kept by Keystone as an attribute of its own; keystoneclient sends true. */
  enabled?: boolean;
}

export interface CredentialFields {
  user_id: string;
  type: string;
  blob: string;
  project_id?: string | null;
}

type Named = { id: string; name?: string; domain?: { id: string; name?: string } };

export interface RoleAssignment {
  role: { id: string; name?: string };
  user?: Named;
  group?: Named;
  scope: { project?: Named; domain?: { id: string; name?: string }; system?: { all: boolean }; 'OS-INHERIT:inherited_to'?: string };
}

export interface ProjectFields {
  name: string;
  domain_id?: string;
  description?: string;
  enabled?: boolean;
  tags?: string[];
}

export interface UserFields {
  name: string;
  domain_id?: string;
  password?: string;
  default_project_id?: string;
  description?: string;
  email?: string;
  enabled?: boolean;
}

export interface RoleFields {
  name: string;
  description?: string;
}

export interface DomainFields {
  name: string;
  description?: string;
  enabled?: boolean;
}

export interface ApplicationCredentialFields {
  name: string;
  secret?: string;
  description?: string;
  /** ISO 8601, UTC when no offset is given. */
  expires_at?: string;
  unrestricted?: boolean;
  roles?: { id?: string; name?: string }[];
  /** Each an existing rule's id, or a service type, a method and a path. */
  access_rules?: { id?: string; service?: string; method?: string; path?: string }[];
}

/** Who holds a grant. */
export type Grantee = { user: string } | { group: string };

/** Where a role is granted. */
export type GrantTarget = { project: string } | { domain: string } | { system: 'all' };

const targetPath = (t: GrantTarget) => ('system' in t ? 'system' : 'project' in t ? `projects/${t.project}` : `domains/${t.domain}`);

/** Keystone v3, reached through the catalog's identity endpoint. */
export class IdentityClient {
  readonly projects: Collection<Project, ProjectFields>;
  readonly users: Collection<User, UserFields>;
  readonly roles: Collection<Role, RoleFields>;
  readonly domains: Collection<Domain, DomainFields>;
  readonly groups: Collection<Group, { name?: string; domain_id?: string; description?: string }>;
  readonly services: Collection<Service>;
  readonly endpoints: Collection<Endpoint>;
  readonly regions: Collection<Region, RegionFields>;
  readonly credentials: Collection<Credential, CredentialFields>;
  readonly trusts: Collection<Trust, TrustFields>;

  constructor(private readonly session: Session) {
    const at = <T, C>(plural: string, key: string, kind = key) => new Collection<T, C>(session, { url: () => `${this.url}/${plural}`, key, plural, kind });
    this.projects = at('projects', 'project');
    this.users = at('users', 'user');
    this.roles = at('roles', 'role');
    this.domains = at('domains', 'domain');
    this.groups = at('groups', 'group');
    this.services = at('services', 'service');
    this.endpoints = at('endpoints', 'endpoint');
    this.regions = at('regions', 'region');
    this.credentials = at('credentials', 'credential');
    this.trusts = new Collection(session, { url: () => `${this.url}/OS-TRUST/trusts`, key: 'trust', plural: 'trusts', kind: 'trust' });
  }

  /** The v3 base URL. */
  get url(): string {
    return identityV3(this.session.endpoint('identity'));
  }

  applicationCredentials(userId: string): Collection<ApplicationCredential, ApplicationCredentialFields> {
    const plural = 'application_credentials';
    return new Collection(this.session, {
      url: () => `${this.url}/users/${userId}/${plural}`,
      key: 'application_credential',
      plural,
      kind: 'application credential',
    });
  }

  /** A user's EC2 credentials, by access key (created with createEc2). */
  ec2(userId: string): Collection<Ec2Credential, never> {
    return new Collection(this.session, {
      url: () => `${this.url}/users/${userId}/credentials/OS-EC2`,
      key: 'credential',
      plural: 'credentials',
      kind: 'EC2 credential',
    });
  }

  /** A new access key and secret for the user on a project; the body is not wrapped, as Keystone reads it. */
  async createEc2(userId: string, projectId: string): Promise<Ec2Credential> {
    const url = `${this.url}/users/${encodeURIComponent(userId)}/credentials/OS-EC2`;
    return (await this.session.request<{ credential: Ec2Credential }>('POST', url, { body: { tenant_id: projectId } })).credential;
  }

  /** A user's own change of password; the original password is the credential. */
  async changePassword(userId: string, original: string, password: string): Promise<void> {
    await this.session.request('POST', `${this.url}/users/${encodeURIComponent(userId)}/password`, {
      body: { user: { password, original_password: original } },
    });
  }

  /** The projects a user has a role on. */
  async userProjects(userId: string): Promise<Project[]> {
    return (await this.session.request<{ projects: Project[] }>('GET', `${this.url}/users/${encodeURIComponent(userId)}/projects`)).projects;
  }

  /** The projects the session's own user may scope to. */
  async myProjects(): Promise<Project[]> {
    return (await this.session.request<{ projects: Project[] }>('GET', `${this.url}/auth/projects`)).projects;
  }

  /** Filters: `user.id`, `role.id`, `scope.project.id`, `scope.domain.id`, `scope.system`, `effective`, `include_names`. */
  async roleAssignments(query: Query = {}): Promise<RoleAssignment[]> {
    return (await this.session.request<{ role_assignments: RoleAssignment[] }>('GET', `${this.url}/role_assignments`, { query })).role_assignments;
  }

  async grant(target: GrantTarget, userId: string, roleId: string): Promise<void> {
    await this.session.request('PUT', `${this.url}/${targetPath(target)}/users/${userId}/roles/${roleId}`);
  }

  async revokeGrant(target: GrantTarget, userId: string, roleId: string): Promise<void> {
    await this.session.request('DELETE', `${this.url}/${targetPath(target)}/users/${userId}/roles/${roleId}`);
  }

  /** A grant's URL: `inherited` makes it OS-INHERIT's, which reaches the projects below the target. */
  private grantUrl(target: GrantTarget, who: Grantee, roleId: string, inherited: boolean): string {
    const actor = 'user' in who ? `users/${who.user}` : `groups/${who.group}`;
    return inherited
      ? `${this.url}/OS-INHERIT/${targetPath(target)}/${actor}/roles/${roleId}/inherited_to_projects`
      : `${this.url}/${targetPath(target)}/${actor}/roles/${roleId}`;
  }

  async grantTo(target: GrantTarget, who: Grantee, roleId: string, inherited = false): Promise<void> {
    await this.session.request('PUT', this.grantUrl(target, who, roleId, inherited));
  }

  async revokeFrom(target: GrantTarget, who: Grantee, roleId: string, inherited = false): Promise<void> {
    await this.session.request('DELETE', this.grantUrl(target, who, roleId, inherited));
  }

  async groupUsers(groupId: string): Promise<User[]> {
    return (await this.session.request<{ users: User[] }>('GET', `${this.url}/groups/${encodeURIComponent(groupId)}/users`)).users;
  }

  async userGroups(userId: string): Promise<Group[]> {
    return (await this.session.request<{ groups: Group[] }>('GET', `${this.url}/users/${encodeURIComponent(userId)}/groups`)).groups;
  }

  /** Adds (PUT), removes (DELETE) or checks (HEAD) a member of a group. */
  async membership(method: 'PUT' | 'DELETE' | 'HEAD', groupId: string, userId: string): Promise<void> {
    await this.session.request(method, `${this.url}/groups/${encodeURIComponent(groupId)}/users/${encodeURIComponent(userId)}`);
  }

  async revokeToken(token: string): Promise<void> {
    await this.session.request('DELETE', `${this.url}/auth/tokens`, { headers: { 'x-subject-token': token } });
  }
}
