import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../lib/http/auth.ts';
import { inRange } from '../../lib/http/microversion.ts';
import type { Backup } from '../backups.ts';
import { isAdmin } from '../policy.ts';
import type { Snapshot } from '../snapshots.ts';
import type { attachments } from '../tables.ts';
import type { VolumeType } from '../types.ts';
import type { Volume } from '../volumes.ts';

type Attachment = typeof attachments.$inferSelect;

/** Cinder's timestamps: ISO 8601 with microseconds and no zone. */
export const stamp = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null);

const link = (request: FastifyRequest, projectId: string, kind: string, id: string) => [
  { rel: 'self', href: `${request.publicUrl}/volume/v3/${projectId}/${kind}/${id}` },
  { rel: 'bookmark', href: `${request.publicUrl}/volume/${projectId}/${kind}/${id}` },
];

export function volumeSummary(request: FastifyRequest, v: Volume) {
  return { id: v.id, name: v.name, links: link(request, v.projectId, 'volumes', v.id) };
}

/** A volume as Cinder's detail view shows it at the request's microversion. */
export function volumeView(request: FastifyRequest, auth: AuthContext, v: Volume, typeName: string, atts: Attachment[]) {
  const version = request.apiVersion;
  const metadata = v.readOnly ? { ...v.metadata, readonly: 'True' } : v.metadata;
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    status: v.status,
    size: v.size,
    availability_zone: v.availabilityZone,
    created_at: stamp(v.createdAt),
    updated_at: stamp(v.updatedAt),
    attachments: atts
      .filter((a) => a.status === 'attached')
      .map((a) => ({
        id: v.id,
        attachment_id: a.id,
        volume_id: v.id,
        server_id: a.serverId,
        host_name: a.host,
        device: a.device,
        attached_at: stamp(a.attachedAt),
      })),
    bootable: String(v.bootable),
    encrypted: false,
    multiattach: v.multiattach,
    metadata,
    volume_type: typeName,
    snapshot_id: v.snapshotId,
    source_volid: v.sourceVolid,
    user_id: v.userId,
    consistencygroup_id: null,
    replication_status: null,
    migration_status: null,
    links: link(request, v.projectId, 'volumes', v.id),
    'os-vol-tenant-attr:tenant_id': v.projectId,
    ...(v.imageMetadata ? { volume_image_metadata: v.imageMetadata } : {}),
    ...(isAdmin(auth) ? { 'os-vol-host-attr:host': v.host, 'os-vol-mig-status-attr:migstat': null, 'os-vol-mig-status-attr:name_id': null } : {}),
    ...(inRange(version, '3.13') ? { group_id: null } : {}),
    ...(inRange(version, '3.21') ? { provider_id: null } : {}),
  };
}

export function snapshotView(request: FastifyRequest, s: Snapshot) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    status: s.status,
    size: s.size,
    volume_id: s.volumeId,
    metadata: s.metadata,
    created_at: stamp(s.createdAt),
    updated_at: stamp(s.updatedAt),
    'os-extended-snapshot-attributes:progress': s.status === 'available' ? '100%' : '0%',
    'os-extended-snapshot-attributes:project_id': s.projectId,
    ...(inRange(request.apiVersion, '3.14') ? { group_snapshot_id: null } : {}),
    ...(inRange(request.apiVersion, '3.41') ? { user_id: s.userId } : {}),
  };
}

export function typeView(t: VolumeType) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: t.isPublic,
    'os-volume-type-access:is_public': t.isPublic,
    extra_specs: t.extraSpecs,
    qos_specs_id: null,
  };
}

export function backupSummary(request: FastifyRequest, b: Backup) {
  return { id: b.id, name: b.name, links: link(request, b.projectId, 'backups', b.id) };
}

/** A backup as Cinder's detail view shows it at the request's microversion. */
export function backupView(request: FastifyRequest, auth: AuthContext, b: Backup, opts: { container: string; zone: string; hasDependents: boolean }) {
  return {
    id: b.id,
    name: b.name,
    description: b.description,
    status: b.status,
    size: b.size,
    volume_id: b.volumeId,
    snapshot_id: null,
    container: opts.container,
    availability_zone: opts.zone,
    object_count: 0,
    is_incremental: b.isIncremental,
    has_dependent_backups: opts.hasDependents,
    fail_reason: b.fault,
    created_at: stamp(b.createdAt),
    updated_at: stamp(b.updatedAt),
    data_timestamp: stamp(b.dataTimestamp ?? b.createdAt),
    links: link(request, b.projectId, 'backups', b.id),
    ...(inRange(request.apiVersion, '3.18') && isAdmin(auth) ? { 'os-backup-project-attr:project_id': b.projectId } : {}),
    ...(inRange(request.apiVersion, '3.43') ? { metadata: b.metadata } : {}),
  };
}
