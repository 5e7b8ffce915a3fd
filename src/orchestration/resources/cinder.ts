import { ServiceError } from '../services.ts';
import { defined, physicalName, waitFor, type ResourceContext, type ResourceType } from './types.ts';

/** The volume names its stack and resource, so that one whose id a crash kept from being recorded is still found (orphan). */
const marks = (ctx: ResourceContext) => ({ heat_stack_id: ctx.stackId, heat_resource_name: ctx.name });

const volume = async (ctx: ResourceContext, id: string) =>
  (await ctx.api.callOr404('block-storage', 'GET', `/volumes/${id}`))?.volume as Record<string, any> | undefined;

/** Waits until the volume reaches one of the statuses; an error status fails with it. */
const until = (ctx: ResourceContext, id: string, statuses: string[]) =>
  waitFor(ctx, `Volume ${id}`, async () => {
    const v = await volume(ctx, id);
    if (!v) throw new ServiceError('NotFound', `Volume ${id} could not be found.`, 404);
    if (v.status.startsWith('error')) throw new ServiceError('ResourceInError', `Went to status ${v.status} due to "Unknown"`, 500);
    return statuses.includes(v.status) ? v : undefined;
  });

export const CINDER: Record<string, ResourceType> = {
  'OS::Cinder::Volume': {
    properties: ['name', 'description', 'size', 'image', 'volume_type', 'source_volid', 'snapshot_id', 'availability_zone', 'metadata'],
    updatable: ['name', 'description', 'metadata'],
    async update(ctx, id, changed) {
      const volume = 'metadata' in changed ? { ...changed, metadata: { ...(changed.metadata ?? {}), ...marks(ctx) } } : changed;
      const made = await ctx.api.call('block-storage', 'PUT', `/volumes/${id}`, { volume });
      return made.volume;
    },
    attributes: ['size', 'status', 'display_name', 'display_description', 'volume_type', 'bootable', 'attachments', 'availability_zone'],
    async create(ctx, p) {
      const made = await ctx.api.call('block-storage', 'POST', '/volumes', {
        volume: defined({
          name: p.name ?? physicalName(ctx),
          description: p.description,
          size: p.size,
          imageRef: p.image,
          volume_type: p.volume_type,
          source_volid: p.source_volid,
          snapshot_id: p.snapshot_id,
          availability_zone: p.availability_zone,
          metadata: { ...(p.metadata ?? {}), ...marks(ctx) },
        }),
      });
      const id = made.volume.id as string;
      await ctx.made(id);
      return { id, data: await until(ctx, id, ['available']) };
    },
    async delete(ctx, id) {
      if (!(await volume(ctx, id))) return;
      await ctx.api.callOr404('block-storage', 'DELETE', `/volumes/${id}`);
      await waitFor(ctx, `Deleting volume ${id}`, async () => {
        const v = await volume(ctx, id);
        if (v?.status === 'error_deleting') throw new ServiceError('ResourceInError', `Volume ${id} went to status error_deleting`, 500);
        return v ? undefined : true;
      });
    },
    async orphan(ctx) {
      const { volumes } = await ctx.api.call('block-storage', 'GET', '/volumes/detail');
      return (volumes as { id: string; metadata?: Record<string, string> }[]).find(
        (v) => v.metadata?.heat_stack_id === ctx.stackId && v.metadata?.heat_resource_name === ctx.name,
      )?.id;
    },
    attribute(v, name) {
      if (name === 'display_name') return v.name;
      if (name === 'display_description') return v.description;
      return undefined;
    },
  },
  'OS::Cinder::VolumeAttachment': {
    properties: ['instance_uuid', 'volume_id', 'mountpoint'],
    required: ['instance_uuid', 'volume_id'],
    attributes: [],
    async create(ctx, p) {
      const server = String(p.instance_uuid);
      const vol = String(p.volume_id);
      await ctx.api.call('compute', 'POST', `/servers/${server}/os-volume_attachments`, { volumeAttachment: defined({ volumeId: vol, device: p.mountpoint }) });
      const id = `${server}:${vol}`;
      await ctx.made(id);
      await until(ctx, vol, ['in-use']);
      return { id, data: { server_id: server, volume_id: vol } };
    },
    async delete(ctx, id) {
      const [server, vol] = id.split(':') as [string, string];
      await ctx.api.callOr404('compute', 'DELETE', `/servers/${server}/os-volume_attachments/${vol}`);
      if (await volume(ctx, vol)) await until(ctx, vol, ['available']);
    },
  },
};
