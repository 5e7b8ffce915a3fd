import type { snapshotView, typeView, volumeView } from '../volume/api/views.ts';
import { ClientError, HttpError } from './errors.ts';
import type { Query } from './http.ts';
import type { Session } from './session.ts';
import type { Limits, QuotaSet } from './compute.ts';

// Resource shapes as the volume service writes them (its views are the one source of truth).
export type Volume = ReturnType<typeof volumeView>;
export type Snapshot = ReturnType<typeof snapshotView>;
export type VolumeType = ReturnType<typeof typeView> & { access_project_ids?: string[] };

const missing = (err: unknown) => err instanceof HttpError && (err.status === 404 || err.status === 400);

/** Cinder v3, reached through the catalog's block-storage endpoint, at microversion 3.0 as
 * openstackclient speaks it unless asked (extend of an in-use volume asks 3.42). */
export class VolumeClient {
  constructor(private readonly session: Session) {}

  get url(): string {
    return this.session.endpoint('block-storage');
  }

  private call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; version?: string } = {}): Promise<T> {
    return this.session.request<T>(method, `${this.url}${path}`, {
      query: opts.query,
      body: opts.body,
      headers: { 'openstack-api-version': `volume ${opts.version ?? '3.0'}` },
    });
  }

  /** cinderclient's lookup: by ID, else the one whose name matches in the (admin: all) list. */
  private async find<T extends { id: string; name: string | null }>(
    kind: string,
    ref: string,
    get: (id: string) => Promise<T>,
    list: (q: Query) => Promise<T[]>,
  ): Promise<T> {
    try {
      return await get(ref);
    } catch (err) {
      if (!missing(err)) throw err;
    }
    const matches = (await list({ name: ref })).filter((r) => r.name === ref);
    if (matches.length > 1) throw new ClientError(`More than one ${kind} exists with the name '${ref}'.`);
    if (!matches[0]) throw new ClientError(`No ${kind} with a name or ID of '${ref}' exists.`);
    return matches[0];
  }

  // Volumes

  volumes = async (query: Query = {}) => (await this.call<{ volumes: Volume[] }>('GET', '/volumes/detail', { query })).volumes;
  volume = async (id: string) => (await this.call<{ volume: Volume }>('GET', `/volumes/${encodeURIComponent(id)}`)).volume;
  findVolume = (ref: string) => this.find('volume', ref, this.volume, this.volumes);
  createVolume = async (body: Record<string, unknown>) => (await this.call<{ volume: Volume }>('POST', '/volumes', { body: { volume: body } })).volume;
  updateVolume = async (id: string, body: Record<string, unknown>) =>
    (await this.call<{ volume: Volume }>('PUT', `/volumes/${id}`, { body: { volume: body } })).volume;
  deleteVolume = (id: string, query: Query = {}) => this.call<void>('DELETE', `/volumes/${id}`, { query });
  volumeAction = (id: string, action: string, args: unknown, version?: string) =>
    this.call<unknown>('POST', `/volumes/${id}/action`, { body: { [action]: args }, version });
  setVolumeMetadata = (id: string, metadata: Record<string, string>) => this.call<unknown>('POST', `/volumes/${id}/metadata`, { body: { metadata } });
  deleteVolumeMetadata = (id: string, key: string) => this.call<void>('DELETE', `/volumes/${id}/metadata/${encodeURIComponent(key)}`);

  // Snapshots

  snapshots = async (query: Query = {}) => (await this.call<{ snapshots: Snapshot[] }>('GET', '/snapshots/detail', { query })).snapshots;
  snapshot = async (id: string) => (await this.call<{ snapshot: Snapshot }>('GET', `/snapshots/${encodeURIComponent(id)}`)).snapshot;
  findSnapshot = (ref: string) => this.find('snapshot', ref, this.snapshot, this.snapshots);
  createSnapshot = async (body: Record<string, unknown>) =>
    (await this.call<{ snapshot: Snapshot }>('POST', '/snapshots', { body: { snapshot: body } })).snapshot;
  updateSnapshot = async (id: string, body: Record<string, unknown>) =>
    (await this.call<{ snapshot: Snapshot }>('PUT', `/snapshots/${id}`, { body: { snapshot: body } })).snapshot;
  deleteSnapshot = (id: string) => this.call<void>('DELETE', `/snapshots/${id}`);
  setSnapshotMetadata = (id: string, metadata: Record<string, string>) => this.call<unknown>('POST', `/snapshots/${id}/metadata`, { body: { metadata } });

  // Volume types

  types = async (query: Query = {}) => (await this.call<{ volume_types: VolumeType[] }>('GET', '/types', { query })).volume_types;
  type = async (id: string) => (await this.call<{ volume_type: VolumeType }>('GET', `/types/${encodeURIComponent(id)}`)).volume_type;
  findType = (ref: string) => this.find('volume type', ref, this.type, () => this.types({ is_public: 'None' }));
  createType = async (body: Record<string, unknown>) =>
    (await this.call<{ volume_type: VolumeType }>('POST', '/types', { body: { volume_type: body } })).volume_type;
  updateType = async (id: string, body: Record<string, unknown>) =>
    (await this.call<{ volume_type: VolumeType }>('PUT', `/types/${id}`, { body: { volume_type: body } })).volume_type;
  deleteType = (id: string) => this.call<void>('DELETE', `/types/${id}`);
  setExtraSpecs = (id: string, extraSpecs: Record<string, string>) =>
    this.call<unknown>('POST', `/types/${id}/extra_specs`, { body: { extra_specs: extraSpecs } });
  deleteExtraSpec = (id: string, key: string) => this.call<void>('DELETE', `/types/${id}/extra_specs/${encodeURIComponent(key)}`);
  typeAccess = async (id: string) =>
    (await this.call<{ volume_type_access: { project_id: string }[] }>('GET', `/types/${id}/os-volume-type-access`)).volume_type_access.map(
      (a) => a.project_id,
    );

  // Limits

  /** The absolute limits and usage of the token's project (Cinder's /limits has no project query). */
  limits = async () => (await this.call<{ limits: Limits }>('GET', '/limits')).limits;

  // Quotas (os-quota-sets): volumes, snapshots, gigabytes and their per-type `<resource>_<type>`.

  quotas = async (projectId: string) => (await this.call<{ quota_set: QuotaSet }>('GET', `/os-quota-sets/${encodeURIComponent(projectId)}`)).quota_set;
  defaultQuotas = async (projectId: string) =>
    (await this.call<{ quota_set: QuotaSet }>('GET', `/os-quota-sets/${encodeURIComponent(projectId)}/defaults`)).quota_set;
  updateQuotas = async (projectId: string, changes: Record<string, number>) =>
    (await this.call<{ quota_set: QuotaSet }>('PUT', `/os-quota-sets/${encodeURIComponent(projectId)}`, { body: { quota_set: changes } })).quota_set;
}
