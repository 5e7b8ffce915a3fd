import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { ImageClient, type ImageChange, type MemberStatus } from '../../client/image.ts';
import { connect } from '../context.ts';
import { collect } from '../options.ts';
import {
  CONTAINER_FORMATS,
  DISK_FORMATS,
  integer,
  keyValue,
  oneOf,
  projectId,
  projectOptions,
  protectedOf,
  protectedOptions,
  visibilityOf,
  type VisibilityFlags,
} from './image-options.ts';

interface SetOptions extends VisibilityFlags {
  name?: string;
  minDisk?: number;
  minRam?: number;
  containerFormat?: string;
  diskFormat?: string;
  protected?: boolean;
  unprotected?: boolean;
  property?: Record<string, string>;
  tag?: string[];
  architecture?: string;
  instanceId?: string;
  kernelId?: string;
  osDistro?: string;
  osVersion?: string;
  ramdiskId?: string;
  deactivate?: boolean;
  activate?: boolean;
  project?: string;
  projectDomain?: string;
  accept?: boolean;
  reject?: boolean;
  pending?: boolean;
  hidden?: boolean;
  unhidden?: boolean;
}

const membershipOf = (o: SetOptions): MemberStatus | undefined => (o.accept ? 'accepted' : o.reject ? 'rejected' : o.pending ? 'pending' : undefined);

export function registerSet(image: Command): void {
  const set = image.command('set').description("change an image's attributes, state or membership").argument('<image>', 'image to modify (name or ID)');
  oneOf(set, {
    public: 'image is accessible to the public',
    private: 'image is inaccessible to the public',
    community: 'image is accessible to the community',
    shared: 'image can be shared',
  });
  oneOf(set, { deactivate: 'deactivate the image', activate: 'activate the image' });
  oneOf(set, {
    accept: 'accept the image membership (of --project, by default the current one)',
    reject: 'reject the image membership',
    pending: "reset the image membership to 'pending'",
  });
  oneOf(set, { hidden: 'hide the image', unhidden: 'unhide the image' });
  projectOptions(protectedOptions(set), 'new owner of the image, or the member whose membership changes (name or ID)')
    .option('--name <name>', 'new image name')
    .option('--min-disk <disk-gb>', 'minimum disk size needed to boot the image, in gigabytes', integer)
    .option('--min-ram <ram-mb>', 'minimum RAM size needed to boot the image, in megabytes', integer)
    .addOption(new Option('--container-format <container-format>', 'image container format').choices(CONTAINER_FORMATS))
    .addOption(new Option('--disk-format <disk-format>', 'image disk format').choices(DISK_FORMATS))
    .option('--property <key=value>', 'set a property on the image (repeat for more)', keyValue)
    .option('--tag <tag>', 'add a tag to the image (repeat for more)', collect)
    .option('--architecture <architecture>', 'operating system architecture')
    .option('--instance-id <instance-id>', 'ID of the server the image was made from')
    .option('--kernel-id <kernel-id>', 'ID of the kernel image used to boot this disk image')
    .option('--os-distro <os-distro>', 'operating system distribution name')
    .option('--os-version <os-version>', 'operating system distribution version')
    .option('--ramdisk-id <ramdisk-id>', 'ID of the ramdisk image used to boot this disk image')
    .action(async (ref: string, o: SetOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const images = new ImageClient(session);
      const found = await images.find(ref);
      const project = o.project ? await projectId(identity, o.project, o.projectDomain) : undefined;

      // In openstackclient's order: the state, the membership, then the attributes.
      if (o.deactivate) await images.deactivate(found.id);
      if (o.activate) await images.reactivate(found.id);
      const membership = membershipOf(o);
      if (membership) {
        const member = project ?? session.auth.project?.id;
        if (!member) throw new ClientError('Give --project: the current token is not scoped to a project.');
        await images.updateMember(found.id, member, membership);
      }

      const values: Record<string, unknown> = {
        architecture: o.architecture,
        container_format: o.containerFormat,
        disk_format: o.diskFormat,
        instance_id: o.instanceId,
        kernel_id: o.kernelId,
        min_disk: o.minDisk,
        min_ram: o.minRam,
        name: o.name,
        os_distro: o.osDistro,
        os_version: o.osVersion,
        ramdisk_id: o.ramdiskId,
        ...o.property,
        protected: protectedOf(o),
        visibility: visibilityOf(o),
        owner: project,
        // Tags are added to those the image has.
        tags: o.tag && [...new Set([...found.tags, ...o.tag])],
        os_hidden: o.hidden ? true : o.unhidden ? false : undefined,
      };
      // With --accept and the like, --project names the member, not a new owner (openstackclient
      // would also try to make it the owner).
      if (membership) delete values.owner;
      const changes: ImageChange[] = Object.entries(values)
        .filter(([, value]) => value !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ op: 'add', name, value }));
      if (changes.length) await images.update(found.id, changes);
    });

  image
    .command('unset')
    .description('remove tags and properties from an image')
    .argument('<image>', 'image to modify (name or ID)')
    .option('--tag <tag>', 'remove this tag (repeat for more)', collect, [])
    .option('--property <property-key>', 'remove this property (repeat for more)', collect, [])
    .action(async (ref: string, o: { tag: string[]; property: string[] }, cmd: Command) => {
      const { session } = await connect(cmd);
      const images = new ImageClient(session);
      const found = await images.find(ref);
      let tagFailures = 0;
      for (const tag of o.tag) {
        try {
          await images.removeTag(found.id, tag);
        } catch (err) {
          if (!(err instanceof ClientError)) throw err;
          tagFailures++;
          process.stderr.write(`tag unset failed, '${tag}' is a nonexistent tag\n`);
        }
      }
      const present = o.property.filter((key) => Object.hasOwn(found, key));
      for (const key of o.property.filter((k) => !present.includes(k))) process.stderr.write(`property unset failed, '${key}' is a nonexistent property\n`);
      if (present.length)
        await images.update(
          found.id,
          present.map((name) => ({ op: 'remove', name })),
        );

      const propertyFailures = o.property.length - present.length;
      const failed = [
        tagFailures ? `Failed to unset ${tagFailures} of ${o.tag.length} tags.` : '',
        propertyFailures ? `Failed to unset ${propertyFailures} of ${o.property.length} properties.` : '',
      ].filter(Boolean);
      if (failed.length) throw new ClientError(failed.join(' '));
    });
}
