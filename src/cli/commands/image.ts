import { createWriteStream, rmSync } from 'node:fs';
import { dataSource } from './image-data.ts';
import { imageFromVolume } from './image-from-volume.ts';
import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { ImageClient, type ImageFields } from '../../client/image.ts';
import { connect, deleteEach } from '../context.ts';
import { collect } from '../options.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { LIST_COLUMNS, LONG_COLUMNS, hasProperties, imageFields, listRow, sortImages } from './image-format.ts';
import { registerMembers } from './image-members.ts';
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
import { progressBar } from './image-progress.ts';
import { registerSet } from './image-set.ts';
import { registerImport } from './image-import.ts';
import { registerMetadefs } from './image-metadef.ts';

interface CreateOptions extends VisibilityFlags {
  id?: string;
  containerFormat: string;
  diskFormat: string;
  minDisk?: number;
  minRam?: number;
  file?: string;
  volume?: string;
  force?: boolean;
  import?: boolean;
  progress?: boolean;
  protected?: boolean;
  unprotected?: boolean;
  property?: Record<string, string>;
  tag?: string[];
  project?: string;
  projectDomain?: string;
}

interface ListOptions extends VisibilityFlags {
  all?: boolean;
  property?: Record<string, string>;
  name?: string;
  status?: string;
  memberStatus?: string;
  project?: string;
  projectDomain?: string;
  tag?: string[];
  hidden?: boolean;
  long?: boolean;
  sort: string;
  limit?: number;
  marker?: string;
}

export function register(image: Command): void {
  const create = image.command('create').description('create an image, and upload its data').argument('<image-name>', 'new image name');
  oneOf(create, {
    public: 'image is accessible to the public',
    private: 'image is inaccessible to the public',
    community: 'image is accessible to the community',
    shared: 'image can be shared with other projects (default)',
  });
  showOptions(projectOptions(protectedOptions(create), 'owner of the image (name or ID)'))
    .option('--id <id>', 'image ID to reserve')
    .addOption(new Option('--container-format <container-format>', 'image container format').choices(CONTAINER_FORMATS).default('bare'))
    .addOption(new Option('--disk-format <disk-format>', 'image disk format').choices(DISK_FORMATS).default('raw'))
    .option('--min-disk <disk-gb>', 'minimum disk size needed to boot the image, in gigabytes', integer)
    .option('--min-ram <ram-mb>', 'minimum RAM size needed to boot the image, in megabytes', integer)
    .option('--file <file>', 'upload the image data from this file (default: stdin when redirected)')
    .addOption(new Option('--volume <volume>', 'create the image from this volume (name or ID)').conflicts('file'))
    .option('--force', 'create the image even if the volume is in use (only with --volume)')
    .option('--progress', 'show the upload progress bar even when stderr is not a terminal')
    .option('--import', 'send the data by interoperable import (stage, then glance-direct) instead of a direct upload')
    .option('--property <key=value>', 'set a property on the image (repeat for more)', keyValue)
    .option('--tag <tag>', 'set a tag on the image (repeat for more)', collect)
    .action(async (name: string, o: CreateOptions, cmd: Command) => {
      if (o.volume) {
        const { session } = await connect(cmd);
        const access = { visibility: visibilityOf(o), protected: protectedOf(o) };
        return printShow(cmd, await imageFromVolume(session, name, { ...o, volume: o.volume, ...access }));
      }
      const data = dataSource(o.file);
      const { session, identity } = await connect(cmd);
      const images = new ImageClient(session);
      // As openstacksdk: an import the cloud does not offer fails before the image is made.
      if (o.import && !(await images.importMethods()).includes('glance-direct')) {
        throw new ClientError('Importing image was requested but the cloud does not support the image import method.');
      }
      // As openstackclient: zero values are not sent, and properties sit beside the attributes.
      const fields: ImageFields = {
        ...o.property,
        name,
        id: o.id,
        container_format: o.containerFormat,
        disk_format: o.diskFormat,
        min_disk: o.minDisk || undefined,
        min_ram: o.minRam || undefined,
        tags: o.tag,
        visibility: visibilityOf(o),
        protected: protectedOf(o),
        owner: o.project ? await projectId(identity, o.project, o.projectDomain) : undefined,
      };
      const created = await images.create(fields);
      if (data) {
        const bar = progressBar(data.size, o.progress);
        try {
          if (o.import) {
            await images.stage(created.id, data.stream, { size: data.size, onProgress: bar?.update });
            await images.import(created.id, { method: { name: 'glance-direct' } });
          } else {
            await images.upload(created.id, data.stream, { size: data.size, onProgress: bar?.update });
          }
        } catch (err) {
          // An image whose data was refused is of no use: openstacksdk deletes it too.
          await images.delete(created.id).catch(() => undefined);
          throw err;
        } finally {
          bar?.end();
        }
      }
      // openstackclient prints the image as created, before its data arrived.
      await printShow(cmd, imageFields(created));
    });

  const list = image.command('list').description('list images');
  oneOf(list, {
    public: 'list only public images',
    private: 'list only private images',
    community: 'list only community images',
    shared: 'list only shared images',
    all: 'list all images',
  });
  listOptions(projectOptions(list, 'only the images of this project (admin only) (name or ID)'))
    .option('--property <key=value>', 'only images with this property (repeat for more)', keyValue)
    .option('--name <name>', 'only images of this name')
    .option('--status <status>', 'only images in this status')
    .addOption(new Option('--member-status <member-status>', 'only images of this member status').choices(['accepted', 'pending', 'rejected', 'all']))
    .option('--tag <tag>', 'only images with this tag (repeat for more)', collect)
    .option('--hidden', 'list hidden images')
    .option('--long', 'list more fields')
    .option('--sort <key>[:<direction>]', 'sort by these keys and directions, comma-separated', 'name:asc')
    .option('--limit <num-images>', 'at most this many images', integer)
    .option('--marker <image>', 'the last image of the previous page (name or ID)')
    .action(async (o: ListOptions, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const images = new ImageClient(session);
      const found = await images.list({
        visibility: o.all ? 'all' : visibilityOf(o),
        limit: o.limit || undefined,
        marker: o.marker ? (await images.find(o.marker)).id : undefined,
        name: o.name,
        status: o.status,
        member_status: o.memberStatus,
        tag: o.tag,
        owner: o.project ? await projectId(identity, o.project, o.projectDomain) : undefined,
        os_hidden: o.hidden || undefined,
      });
      const selected = sortImages(o.property ? found.filter((i) => hasProperties(i, o.property!)) : found, o.sort);
      await printList(
        cmd,
        o.long ? LONG_COLUMNS : LIST_COLUMNS,
        selected.map((i) => listRow(i, Boolean(o.long))),
      );
    });

  showOptions(image.command('show').description('show an image').argument('<image>', 'image (name or ID)'))
    .option('--human-readable', 'print the image size in a human-friendly format')
    .action(async (ref: string, o: { humanReadable?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, imageFields(await new ImageClient(session).find(ref), o.humanReadable));
    });

  image
    .command('delete')
    .description('delete images')
    .argument('<image...>', 'images to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const images = new ImageClient(session);
      await deleteEach('image', 'images', refs, async (ref) => images.delete((await images.find(ref)).id));
    });

  image
    .command('save')
    .description('save the data of an image to a file')
    .argument('<image>', 'image to save (name or ID)')
    .option('--file <filename>', 'file to write (default: stdout)')
    .option('--progress', 'show the download progress bar even when stderr is not a terminal')
    .action(async (ref: string, o: { file?: string; progress?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const images = new ImageClient(session);
      const found = await images.find(ref);
      const bar = progressBar(found.size ?? undefined, o.progress);
      try {
        await images.download(found, o.file ? createWriteStream(o.file) : process.stdout, { end: Boolean(o.file), onProgress: bar?.update });
      } catch (err) {
        // A partial or corrupt copy must not pass for the image.
        if (o.file) rmSync(o.file, { force: true });
        throw err;
      } finally {
        bar?.end();
      }
    });

  registerSet(image);
  registerMembers(image);
  registerImport(image);
  registerMetadefs(image);
}
