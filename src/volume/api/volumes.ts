import type { FastifyInstance, FastifyRequest } from 'fastify';
import { eq, inArray } from 'drizzle-orm';
import { authOf, type AuthContext } from '../../lib/http/auth.ts';
import { inRange } from '../../lib/http/microversion.ts';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden, notFound } from '../../lib/errors.ts';
import { isAdmin } from '../policy.ts';
import type { VolumeService } from '../service.ts';
import { volumes, volumeTypes } from '../tables.ts';
import {
  attachmentsOf,
  checkMetadata,
  createVolume,
  deleteVolume,
  extendVolume,
  getVolume,
  patchVolume,
  resetVolumeStatus,
  updateVolume,
  type Volume,
} from '../volumes.ts';
import { bodyOf, boolOf, intOf, metadataFilter, sortAndPage, textOf } from './input.ts';
import { findType } from '../types.ts';
import { requestUpload } from '../uploads.ts';
import { stamp, typeView, volumeSummary, volumeView } from './views.ts';

type Params = { project_id: string; id: string };
type Query = Record<string, string | undefined>;

async function typeNames(svc: VolumeService, rows: Volume[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((r) => r.volumeTypeId))];
  if (ids.length === 0) return new Map();
  const types = await svc.store.db.select({ id: volumeTypes.id, name: volumeTypes.name }).from(volumeTypes).where(inArray(volumeTypes.id, ids));
  return new Map(types.map((t) => [t.id, t.name]));
}

export async function volumeViews(svc: VolumeService, request: FastifyRequest, auth: AuthContext, rows: Volume[]) {
  const [names, atts] = await Promise.all([
    typeNames(svc, rows),
    attachmentsOf(
      svc.store.db,
      rows.map((r) => r.id),
    ),
  ]);
  return rows.map((v) => volumeView(request, auth, v, names.get(v.volumeTypeId) ?? '', atts.get(v.id) ?? []));
}

const SORT_KEYS: Record<string, (v: Volume) => unknown> = {
  created_at: (v) => v.createdAt.getTime(),
  updated_at: (v) => v.updatedAt.getTime(),
  id: (v) => v.id,
  name: (v) => v.name,
  display_name: (v) => v.name,
  size: (v) => v.size,
  status: (v) => v.status,
  availability_zone: (v) => v.availabilityZone,
  bootable: (v) => v.bootable,
};

/** The volumes a list request asks for: the caller's project, or with all_tenants (admin) every one. */
async function listVolumes(svc: VolumeService, auth: AuthContext, query: Query): Promise<Volume[]> {
  const all = isAdmin(auth) && query.all_tenants !== undefined && boolOf('all_tenants', query.all_tenants === '' ? 'true' : query.all_tenants);
  const project = all ? query.project_id : auth.project?.id;
  const rows = project ? await svc.store.db.select().from(volumes).where(eq(volumes.projectId, project)) : await svc.store.db.select().from(volumes);
  const name = query.name ?? query.display_name;
  const metadata = query.metadata ? metadataFilter(query.metadata) : undefined;
  const bootable = query.bootable !== undefined ? boolOf('bootable', query.bootable) : undefined;
  const filtered = rows.filter(
    (v) =>
      (name === undefined || v.name === name) &&
      (query.status === undefined || v.status === query.status) &&
      (query.availability_zone === undefined || v.availabilityZone === query.availability_zone) &&
      (bootable === undefined || v.bootable === bootable) &&
      (!metadata || Object.entries(metadata).every(([k, val]) => v.metadata[k] === val)),
  );
  return sortAndPage(filtered, query, SORT_KEYS);
}

function nextLinks(request: FastifyRequest, query: Query, page: { id: string }[], key: string) {
  const limit = query.limit === undefined ? undefined : Number(query.limit);
  if (limit === undefined || page.length < limit || page.length === 0) return {};
  const url = new URL(request.url, request.publicUrl);
  url.searchParams.set('marker', page.at(-1)!.id);
  return { [key]: [{ rel: 'next', href: `${request.publicUrl}${url.pathname}${url.search}` }] };
}

/** Cinder's volumes: /v3/{project_id}/volumes. */
export function volumeRoutes(app: FastifyInstance, svc: VolumeService): void {
  const { store } = svc;

  app.post<{ Params: Params }>('/:project_id/volumes', { config: { policy: 'volume:create' } }, async (request, reply) => {
    const auth = authOf(request);
    const b = bodyOf(request, 'volume');
    if (b.backup_id) throw badRequest('Invalid input received: backup_id needs microversion 3.47; restore the backup instead (POST /backups/{id}/restore).');
    // A backend that cannot be reached is a 503 now, not a volume stuck in creating.
    await svc.driver.probe?.();
    const vol = await store.tx((tx) =>
      createVolume(tx, svc, auth, {
        size: intOf('size', b.size),
        name: textOf('name', b.name ?? b.display_name),
        description: textOf('description', b.description ?? b.display_description),
        volumeType: textOf('volume_type', b.volume_type),
        availabilityZone: textOf('availability_zone', b.availability_zone),
        metadata: b.metadata === undefined || b.metadata === null ? undefined : checkMetadata(b.metadata),
        imageId: textOf('imageRef', b.imageRef ?? b.image_id),
        snapshotId: textOf('snapshot_id', b.snapshot_id),
        sourceVolid: textOf('source_volid', b.source_volid),
        multiattach: b.multiattach === undefined || b.multiattach === null ? undefined : boolOf('multiattach', b.multiattach),
      }),
    );
    reply.status(202);
    return { volume: (await volumeViews(svc, request, auth, [vol]))[0] };
  });

  app.get<{ Params: Params; Querystring: Query }>('/:project_id/volumes', { config: { policy: 'volume:get' } }, async (request) => {
    const rows = await listVolumes(svc, authOf(request), request.query);
    return { volumes: rows.map((v) => volumeSummary(request, v)), ...nextLinks(request, request.query, rows, 'volumes_links') };
  });

  app.get<{ Params: Params; Querystring: Query }>('/:project_id/volumes/detail', { config: { policy: 'volume:get' } }, async (request) => {
    const auth = authOf(request);
    const rows = await listVolumes(svc, auth, request.query);
    return { volumes: await volumeViews(svc, request, auth, rows), ...nextLinks(request, request.query, rows, 'volumes_links') };
  });

  app.get<{ Params: Params }>('/:project_id/volumes/:id', { config: { policy: 'volume:get' } }, async (request) => {
    const auth = authOf(request);
    const vol = await getVolume(store.db, auth, request.params.id);
    return { volume: (await volumeViews(svc, request, auth, [vol]))[0] };
  });

  app.put<{ Params: Params }>('/:project_id/volumes/:id', { config: { policy: 'volume:update' } }, async (request) => {
    const auth = authOf(request);
    const b = bodyOf(request, 'volume');
    const vol = await store.tx((tx) =>
      updateVolume(tx, auth, request.params.id, {
        name: textOf('name', b.name ?? b.display_name),
        description: textOf('description', b.description ?? b.display_description),
        metadata: b.metadata === undefined ? undefined : checkMetadata(b.metadata),
      }),
    );
    return { volume: (await volumeViews(svc, request, auth, [vol]))[0] };
  });

  app.delete<{ Params: Params; Querystring: Query }>('/:project_id/volumes/:id', { config: { policy: 'volume:delete' } }, async (request, reply) => {
    const auth = authOf(request);
    const cascade = request.query.cascade !== undefined && boolOf('cascade', request.query.cascade);
    const force = request.query.force !== undefined && boolOf('force', request.query.force);
    if (force && !allows('volume:force_delete', auth)) throw forbidden("Policy doesn't allow volume:force_delete to be performed.");
    await svc.driver.probe?.();
    await store.tx((tx) => deleteVolume(tx, auth, request.params.id, { cascade, force }));
    return reply.status(202).send();
  });

  app.post<{ Params: Params }>('/:project_id/volumes/:id/action', { config: { policy: 'volume:update' } }, async (request, reply) => {
    const auth = authOf(request);
    const body = request.body as Record<string, unknown> | undefined;
    const names = body && typeof body === 'object' ? Object.keys(body) : [];
    if (names.length !== 1) throw badRequest('Invalid request body: exactly one action is expected.');
    const name = names[0]!;
    const args = body![name];
    const a = (args && typeof args === 'object' ? args : {}) as Record<string, unknown>;
    const id = request.params.id;
    const admin = (rule: string) => {
      if (!allows(rule, auth)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
    };
    switch (name) {
      case 'os-extend':
        await store.tx((tx) => extendVolume(tx, auth, id, a.new_size, inRange(request.apiVersion, '3.42')));
        return reply.status(202).send();
      case 'os-reset_status':
        admin('volume:reset_status');
        await store.tx((tx) => resetVolumeStatus(tx, auth, id, a.status));
        return reply.status(202).send();
      case 'os-force_delete':
        admin('volume:force_delete');
        await store.tx((tx) => deleteVolume(tx, auth, id, { force: true }));
        return reply.status(202).send();
      case 'os-set_bootable':
        await store.tx((tx) => patchVolume(tx, auth, id, { bootable: boolOf('bootable', a.bootable) }));
        return reply.status(200).send();
      case 'os-update_readonly_flag':
        await store.tx((tx) => patchVolume(tx, auth, id, { readOnly: boolOf('readonly', a.readonly) }));
        return reply.status(202).send();
      case 'os-set_image_metadata': {
        const meta = checkMetadata(a.metadata);
        const vol = await store.tx(async (tx) => {
          const v = await getVolume(tx, auth, id, true);
          const merged = { ...(v.imageMetadata ?? {}), ...meta };
          await tx.update(volumes).set({ imageMetadata: merged, updatedAt: new Date() }).where(eq(volumes.id, v.id));
          return merged;
        });
        return { metadata: vol };
      }
      case 'os-unset_image_metadata':
        await store.tx(async (tx) => {
          const v = await getVolume(tx, auth, id, true);
          const key = String(a.key);
          if (!v.imageMetadata || !(key in v.imageMetadata)) throw notFound(`Glance metadata for volume ${v.id} with key ${key} could not be found.`);
          const { [key]: _, ...rest } = v.imageMetadata;
          await tx.update(volumes).set({ imageMetadata: rest, updatedAt: new Date() }).where(eq(volumes.id, v.id));
        });
        return reply.status(200).send();
      case 'os-volume_upload_image': {
        const withAccess = inRange(request.apiVersion, '3.1');
        if (typeof a.image_name !== 'string' || !a.image_name) throw badRequest('No image_name was specified in request.');
        const req = {
          imageName: a.image_name,
          force: a.force !== undefined && a.force !== null && boolOf('force', a.force),
          diskFormat: textOf('disk_format', a.disk_format) ?? 'raw',
          containerFormat: textOf('container_format', a.container_format) ?? 'bare',
          visibility: withAccess ? (textOf('visibility', a.visibility) ?? undefined) : undefined,
          protected: withAccess && a.protected !== undefined && a.protected !== null ? boolOf('protected', a.protected) : undefined,
        };
        const { volume: v, image } = await store.tx((tx) => requestUpload(tx, svc, auth, id, req));
        const type = await findType(store.db, v.volumeTypeId, undefined, true);
        reply.status(202);
        return {
          'os-volume_upload_image': {
            id: v.id,
            updated_at: stamp(v.updatedAt),
            status: v.status,
            display_description: v.description,
            size: v.size,
            volume_type: typeView(type),
            image_id: image.id,
            container_format: image.containerFormat,
            disk_format: image.diskFormat,
            image_name: image.name,
            ...(withAccess ? { visibility: image.visibility, protected: image.protected } : {}),
          },
        };
      }
      case 'os-show_image_metadata': {
        const v = await getVolume(store.db, auth, id);
        return { metadata: v.imageMetadata ?? {} };
      }
    }
    throw badRequest(`Invalid request body: unknown volume action ${name}.`);
  });

  // Metadata: /volumes/{id}/metadata[/{key}].
  const metaOf = (v: Volume) => v.metadata;
  app.get<{ Params: Params }>('/:project_id/volumes/:id/metadata', { config: { policy: 'volume:get' } }, async (request) => ({
    metadata: metaOf(await getVolume(store.db, authOf(request), request.params.id)),
  }));
  const writeMetadata = (replace: boolean) => async (request: FastifyRequest<{ Params: Params }>) => {
    const auth = authOf(request);
    const meta = checkMetadata(bodyOf(request, 'metadata'));
    const vol = await store.tx(async (tx) => {
      const v = await getVolume(tx, auth, request.params.id, true);
      return patchVolume(tx, auth, v.id, { metadata: replace ? meta : { ...v.metadata, ...meta } });
    });
    return { metadata: vol.metadata };
  };
  app.post<{ Params: Params }>('/:project_id/volumes/:id/metadata', { config: { policy: 'volume:update' } }, writeMetadata(false));
  app.put<{ Params: Params }>('/:project_id/volumes/:id/metadata', { config: { policy: 'volume:update' } }, writeMetadata(true));
  app.get<{ Params: Params & { key: string } }>('/:project_id/volumes/:id/metadata/:key', { config: { policy: 'volume:get' } }, async (request) => {
    const v = await getVolume(store.db, authOf(request), request.params.id);
    const value = v.metadata[request.params.key];
    if (value === undefined) throw notFound(`Volume ${v.id} has no metadata with key ${request.params.key}.`);
    return { meta: { [request.params.key]: value } };
  });
  app.put<{ Params: Params & { key: string } }>('/:project_id/volumes/:id/metadata/:key', { config: { policy: 'volume:update' } }, async (request) => {
    const auth = authOf(request);
    const meta = checkMetadata(bodyOf(request, 'meta'));
    if (Object.keys(meta).length !== 1 || !(request.params.key in meta)) throw badRequest('Request body and URI mismatch');
    await store.tx(async (tx) => {
      const v = await getVolume(tx, auth, request.params.id, true);
      await patchVolume(tx, auth, v.id, { metadata: { ...v.metadata, ...meta } });
    });
    return { meta };
  });
  app.delete<{ Params: Params & { key: string } }>(
    '/:project_id/volumes/:id/metadata/:key',
    { config: { policy: 'volume:update' } },
    async (request, reply) => {
      const auth = authOf(request);
      await store.tx(async (tx) => {
        const v = await getVolume(tx, auth, request.params.id, true);
        if (!(request.params.key in v.metadata)) throw notFound(`Volume ${v.id} has no metadata with key ${request.params.key}.`);
        const { [request.params.key]: _, ...rest } = v.metadata;
        await patchVolume(tx, auth, v.id, { metadata: rest });
      });
      return reply.status(200).send();
    },
  );
}
