import type { Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { ImageClient } from '../../client/image.ts';
import { VolumeClient, type Snapshot, type Volume, type VolumeType } from '../../client/volume.ts';
import { connect, deleteCounted, deleteEach } from '../context.ts';
import { collect } from '../options.ts';
import { Formatted, listOptions, printList, printShow, showOptions } from '../output.ts';
import { dictColumn, listColumn, logError } from './compute-columns.ts';
import { integer, keyValue, projectId } from './image-options.ts';

// `nubo volume …`, `nubo volume snapshot …`, `nubo volume type …`: openstackclient's grammar and
// output (its volume v2/v3 commands over cinderclient).

const sorted = (info: Record<string, unknown>) => Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : 1)));

/** A volume as openstackclient shows it: the API's fields, links gone, metadata as properties and
 * volume_type as type. */
function volumeFields(v: Volume): Record<string, unknown> {
  const { links: _l, metadata, volume_type, ...rest } = v;
  return sorted({ ...rest, properties: dictColumn(metadata), type: volume_type });
}

function snapshotFields(s: Snapshot): Record<string, unknown> {
  const { metadata, ...rest } = s;
  return sorted({ ...rest, properties: dictColumn(metadata) });
}

function typeFields(t: VolumeType, access?: string[] | null): Record<string, unknown> {
  const { extra_specs, 'os-volume-type-access:is_public': _p, ...rest } = t;
  return sorted({ ...rest, ...(access === undefined ? {} : { access_project_ids: access ? listColumn(access) : null }), properties: dictColumn(extra_specs) });
}

/** `Attached to <server> on <device> ` for each attachment, server names where known. */
const attachedTo = (v: Volume, names: Map<string, string>) =>
  new Formatted(
    v.attachments,
    v.attachments.map((a) => `Attached to ${names.get(a.server_id ?? '') ?? a.server_id} on ${a.device} `).join(''),
  );

/** Runs each step, logging failures as openstackclient does, and fails at the end if any did. */
async function steps(list: [string, (() => Promise<unknown>) | undefined][]): Promise<void> {
  let failed = 0;
  for (const [what, step] of list) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      logError(`Failed to ${what}: ${err.message}`);
      failed++;
    }
  }
  if (failed) throw new ClientError('One or more of the set operations failed');
}

export function register(volume: Command): void {
  const create = showOptions(volume.command('create').description('create a volume: blank, or from an image, snapshot or volume').argument('<name>', 'volume name'))
    .option('--size <size>', 'volume size in GB (needed unless --snapshot or --source)', integer)
    .option('--type <volume-type>', 'volume type')
    .option('--image <image>', 'make it from this image (name or ID)')
    .option('--snapshot <snapshot>', 'make it from this snapshot (name or ID)')
    .option('--source <volume>', 'make it a copy of this volume (name or ID)')
    .option('--description <description>', 'volume description')
    .option('--availability-zone <zone>', 'availability zone')
    .option('--property <key=value>', 'set a property (repeat for more)', keyValue)
    .option('--bootable', 'mark the volume bootable')
    .option('--non-bootable', 'mark the volume not bootable')
    .option('--read-only', 'attach it read-only')
    .option('--read-write', 'attach it read-write');
  create.action(async (name: string, o: Record<string, unknown>, cmd: Command) => {
    if (o.size === undefined && !o.snapshot && !o.source) throw new ClientError('--size is a required option if snapshot or source volume are not specified.');
    const { session } = await connect(cmd);
    const client = new VolumeClient(session);
    let size = o.size as number | undefined;
    let snapshotId: string | null = null;
    if (o.snapshot) {
      const snap = await client.findSnapshot(o.snapshot as string);
      snapshotId = snap.id;
      size = Math.max(size ?? 0, snap.size);
    }
    const created = await client.createVolume({
      size,
      snapshot_id: snapshotId,
      name,
      description: (o.description as string) ?? null,
      volume_type: (o.type as string) ?? null,
      availability_zone: (o.availabilityZone as string) ?? null,
      metadata: (o.property as Record<string, string>) ?? {},
      imageRef: o.image ? (await new ImageClient(session).find(o.image as string)).id : null,
      source_volid: o.source ? (await client.findVolume(o.source as string)).id : null,
    });
    if (o.bootable || o.nonBootable) {
      await client.volumeAction(created.id, 'os-set_bootable', { bootable: Boolean(o.bootable) }).catch((e: Error) => logError(`Failed to set volume bootable property: ${e.message}`));
    }
    if (o.readOnly || o.readWrite) {
      await client.volumeAction(created.id, 'os-update_readonly_flag', { readonly: Boolean(o.readOnly) }).catch((e: Error) => logError(`Failed to set volume read-only access mode flag: ${e.message}`));
    }
    await printShow(cmd, volumeFields(created));
  });

  listOptions(volume.command('list').description('list volumes'))
    .option('--long', 'list more fields')
    .option('--all-projects', "include every project's volumes (admin)")
    .option('--project <project>', "only this project's volumes (admin)")
    .option('--name <name>', 'only volumes with this name')
    .option('--status <status>', 'only volumes with this status')
    .option('--marker <volume-id>', 'the last volume of the previous page')
    .option('--limit <num-volumes>', 'at most this many volumes', integer)
    .action(async (o: { long?: boolean; allProjects?: boolean; project?: string; name?: string; status?: string; marker?: string; limit?: number }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const client = new VolumeClient(session);
      const project = o.project ? await projectId(identity, o.project) : undefined;
      const all = Boolean(o.project || o.allProjects);
      const [volumes, servers] = await Promise.all([
        client.volumes({ ...(all ? { all_tenants: 1 } : {}), project_id: project, name: o.name, status: o.status, marker: o.marker, limit: o.limit }),
        // Server names for the attachments; as openstackclient, none when that fails.
        new ComputeClient(session).servers({ limit: -1 }).catch(() => []),
      ]);
      const names = new Map(servers.map((s) => [s.id, s.name]));
      if (o.long) {
        return printList(
          cmd,
          ['ID', 'Name', 'Status', 'Size', 'Type', 'Bootable', 'Attached to', 'Properties'],
          volumes.map((v) => [v.id, v.name, v.status, v.size, v.volume_type, v.bootable, attachedTo(v, names), dictColumn(v.metadata)]),
        );
      }
      await printList(
        cmd,
        ['ID', 'Name', 'Status', 'Size', 'Attached to'],
        volumes.map((v) => [v.id, v.name, v.status, v.size, attachedTo(v, names)]),
      );
    });

  showOptions(volume.command('show').description('show a volume').argument('<volume>', 'volume (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    await printShow(cmd, volumeFields(await new VolumeClient(session).findVolume(ref)));
  });

  volume
    .command('set')
    .description("change a volume's name, description, properties, flags or size")
    .argument('<volume>', 'volume (name or ID)')
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .option('--size <size>', 'extend to this size in GB', integer)
    .option('--property <key=value>', 'set a property (repeat for more)', keyValue)
    .option('--no-property', 'remove every property first')
    .option('--image-property <key=value>', 'set an image property (repeat for more)', keyValue)
    .option('--state <state>', "set the volume's status (admin; the record only)")
    .option('--bootable', 'mark the volume bootable')
    .option('--non-bootable', 'mark the volume not bootable')
    .option('--read-only', 'attach it read-only')
    .option('--read-write', 'attach it read-write')
    .action(async (ref: string, o: Record<string, unknown>, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const v = await client.findVolume(ref);
      const size = o.size as number | undefined;
      // commander's --no-property sets property false; a given --property keeps it an object.
      const props = typeof o.property === 'object' ? (o.property as Record<string, string>) : undefined;
      const clear = o.property === false;
      await steps([
        [
          'set volume size',
          size !== undefined
            ? async () => {
                if (size <= v.size) throw new ClientError(`New size must be greater than ${v.size} GB`);
                if (v.status !== 'available') throw new ClientError(`Volume is in ${v.status} state, it must be available before size can be extended`);
                await client.volumeAction(v.id, 'os-extend', { new_size: size });
              }
            : undefined,
        ],
        ['clean volume properties', clear ? async () => Promise.all(Object.keys(v.metadata).map((k) => client.deleteVolumeMetadata(v.id, k))) : undefined],
        ['set volume property', props ? () => client.setVolumeMetadata(v.id, props) : undefined],
        ['set image property', o.imageProperty ? () => client.volumeAction(v.id, 'os-set_image_metadata', { metadata: o.imageProperty }) : undefined],
        ['set volume state', o.state ? () => client.volumeAction(v.id, 'os-reset_status', { status: o.state }) : undefined],
        ['set volume bootable property', o.bootable || o.nonBootable ? () => client.volumeAction(v.id, 'os-set_bootable', { bootable: Boolean(o.bootable) }) : undefined],
        ['set volume read-only access mode flag', o.readOnly || o.readWrite ? () => client.volumeAction(v.id, 'os-update_readonly_flag', { readonly: Boolean(o.readOnly) }) : undefined],
        [
          'update volume display name or display description',
          o.name || o.description ? () => client.updateVolume(v.id, { ...(o.name ? { name: o.name } : {}), ...(o.description ? { description: o.description } : {}) }) : undefined,
        ],
      ]);
    });

  volume
    .command('delete')
    .description('delete volumes')
    .argument('<volume...>', 'volumes (name or ID)')
    .option('--force', 'delete whatever the state (admin)')
    .option('--purge', 'delete the snapshots with the volume')
    .action(async (refs: string[], o: { force?: boolean; purge?: boolean }, cmd: Command) => {
      if (o.force && o.purge) throw new ClientError('argument --purge: not allowed with argument --force');
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      // openstackclient logs each failure and counts them, whatever the number of volumes.
      await deleteCounted(refs, 'volumes', (ref) => `Failed to delete volume with name or ID '${ref}'`, async (ref) => {
        const v = await client.findVolume(ref);
        if (o.force) await client.volumeAction(v.id, 'os-force_delete', {});
        else await client.deleteVolume(v.id, o.purge ? { cascade: 'True' } : {});
      });
    });

  registerSnapshots(volume.command('snapshot').description('volume snapshots'));
  registerTypes(volume.command('type').description('volume types'));
}

function registerSnapshots(snapshot: Command): void {
  showOptions(snapshot.command('create').description('create a snapshot of a volume').argument('<snapshot-name>', 'snapshot name'))
    .option('--volume <volume>', 'the volume to snapshot (name or ID; default: the snapshot name)')
    .option('--description <description>', 'snapshot description')
    .option('--force', 'snapshot a volume that is in use')
    .option('--property <key=value>', 'set a property (repeat for more)', keyValue)
    .action(async (name: string, o: { volume?: string; description?: string; force?: boolean; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const v = await client.findVolume(o.volume ?? name);
      const created = await client.createSnapshot({ volume_id: v.id, force: Boolean(o.force), name, description: o.description ?? null, metadata: o.property ?? {} });
      await printShow(cmd, snapshotFields(created));
    });

  listOptions(snapshot.command('list').description('list volume snapshots'))
    .option('--long', 'list more fields')
    .option('--all-projects', "include every project's snapshots (admin)")
    .option('--volume <volume>', 'only snapshots of this volume')
    .option('--name <name>', 'only snapshots with this name')
    .option('--status <status>', 'only snapshots with this status')
    .action(async (o: { long?: boolean; allProjects?: boolean; volume?: string; name?: string; status?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const volumeId = o.volume ? (await client.findVolume(o.volume)).id : undefined;
      const snaps = await client.snapshots({ ...(o.allProjects ? { all_tenants: 1 } : {}), volume_id: volumeId, name: o.name, status: o.status });
      if (o.long) {
        const names = new Map((await client.volumes(o.allProjects ? { all_tenants: 1 } : {})).map((v) => [v.id, v.name]));
        return printList(
          cmd,
          ['ID', 'Name', 'Description', 'Status', 'Size', 'Created At', 'Volume', 'Properties'],
          snaps.map((s) => [s.id, s.name, s.description, s.status, s.size, s.created_at, new Formatted(s.volume_id, names.get(s.volume_id) || s.volume_id), dictColumn(s.metadata)]),
        );
      }
      await printList(
        cmd,
        ['ID', 'Name', 'Description', 'Status', 'Size'],
        snaps.map((s) => [s.id, s.name, s.description, s.status, s.size]),
      );
    });

  showOptions(snapshot.command('show').description('show a volume snapshot').argument('<snapshot>', 'snapshot (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    await printShow(cmd, snapshotFields(await new VolumeClient(session).findSnapshot(ref)));
  });

  snapshot
    .command('set')
    .description("change a snapshot's name, description or properties")
    .argument('<snapshot>', 'snapshot (name or ID)')
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .option('--property <key=value>', 'set a property (repeat for more)', keyValue)
    .action(async (ref: string, o: { name?: string; description?: string; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const s = await client.findSnapshot(ref);
      await steps([
        ['set snapshot property', o.property ? () => client.setSnapshotMetadata(s.id, o.property!) : undefined],
        ['update snapshot display name or display description', o.name || o.description ? () => client.updateSnapshot(s.id, { ...(o.name ? { name: o.name } : {}), ...(o.description ? { description: o.description } : {}) }) : undefined],
      ]);
    });

  snapshot
    .command('delete')
    .description('delete volume snapshots')
    .argument('<snapshot...>', 'snapshots (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      await deleteEach('snapshot', 'snapshots', refs, async (ref) => client.deleteSnapshot((await client.findSnapshot(ref)).id));
    });
}

function registerTypes(type: Command): void {
  showOptions(type.command('create').description('create a volume type (admin)').argument('<name>', 'volume type name'))
    .option('--description <description>', 'volume type description')
    .option('--public', 'every project may use it (default)')
    .option('--private', 'only the projects given access may use it')
    .option('--property <key=value>', 'set an extra spec (repeat for more)', keyValue)
    .action(async (name: string, o: { description?: string; public?: boolean; private?: boolean; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      let created = await client.createType({ name, description: o.description ?? null, 'os-volume-type-access:is_public': !o.private });
      if (o.property) {
        await client.setExtraSpecs(created.id, o.property);
        created = await client.type(created.id);
      }
      await printShow(cmd, typeFields(created));
    });

  listOptions(type.command('list').description('list volume types'))
    .option('--long', 'list more fields')
    .option('--default', 'only the default type')
    .option('--public', 'only public types')
    .option('--private', 'only private types')
    .action(async (o: { long?: boolean; default?: boolean; public?: boolean; private?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const types = o.default
        ? [await client.type('default')]
        : await client.types({ is_public: o.public ? 'True' : o.private ? 'False' : 'None' });
      if (o.long) {
        return printList(cmd, ['ID', 'Name', 'Is Public', 'Description', 'Properties'], types.map((t) => [t.id, t.name, t.is_public, t.description, dictColumn(t.extra_specs)]));
      }
      await printList(cmd, ['ID', 'Name', 'Is Public'], types.map((t) => [t.id, t.name, t.is_public]));
    });

  showOptions(type.command('show').description('show a volume type').argument('<volume-type>', 'volume type (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const client = new VolumeClient(session);
    const t = await client.findType(ref);
    const access = t.is_public ? null : await client.typeAccess(t.id).then((p) => p, () => null);
    await printShow(cmd, typeFields(t, access));
  });

  type
    .command('set')
    .description("change a volume type's name, description or extra specs (admin)")
    .argument('<volume-type>', 'volume type (name or ID)')
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .option('--property <key=value>', 'set an extra spec (repeat for more)', keyValue)
    .action(async (ref: string, o: { name?: string; description?: string; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const t = await client.findType(ref);
      await steps([
        ['update volume type', o.name || o.description ? () => client.updateType(t.id, { ...(o.name ? { name: o.name } : {}), ...(o.description ? { description: o.description } : {}) }) : undefined],
        ['set volume type property', o.property ? () => client.setExtraSpecs(t.id, o.property!) : undefined],
      ]);
    });

  type
    .command('unset')
    .description('remove extra specs from a volume type (admin)')
    .argument('<volume-type>', 'volume type (name or ID)')
    .option('--property <key>', 'remove this extra spec (repeat for more)', collect)
    .action(async (ref: string, o: { property?: string[] }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      const t = await client.findType(ref);
      await steps((o.property ?? []).map((k) => ['unset volume type property', () => client.deleteExtraSpec(t.id, k)] as [string, () => Promise<unknown>]));
    });

  type
    .command('delete')
    .description('delete volume types (admin)')
    .argument('<volume-type...>', 'volume types (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new VolumeClient(session);
      await deleteEach('volume type', 'volume types', refs, async (ref) => client.deleteType((await client.findType(ref)).id));
    });
}
