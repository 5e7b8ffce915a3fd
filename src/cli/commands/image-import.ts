import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { ImageClient, type ImportRequest } from '../../client/image.ts';
import { connect } from '../context.ts';
import { printShow, showOptions } from '../output.ts';
import { imageFields } from './image-format.ts';
import { dataSource } from './image-data.ts';
import { progressBar } from './image-progress.ts';

const METHODS = ['glance-direct', 'web-download', 'glance-download', 'copy-image'];

interface ImportOptions {
  method: string;
  uri?: string;
  store?: string[];
  allStores?: string;
  allowFailure: boolean;
  wait?: boolean;
}

/** Interoperable import as newer openstackclients offer it: `image stage`, `image import`. */
export function registerImport(image: Command): void {
  image
    .command('stage')
    .description('upload data for an image to the staging area, for a glance-direct import')
    .argument('<image>', 'image to upload data for (name or ID)')
    .option('--file <file>', 'file that holds the image data (default: stdin when redirected)')
    .option('--progress', 'show the upload progress bar')
    .action(async (ref: string, o: { file?: string; progress?: boolean }, cmd: Command) => {
      const data = dataSource(o.file);
      if (!data) throw new ClientError('No image data: give --file, or redirect standard input.');
      const { session } = await connect(cmd);
      const images = new ImageClient(session);
      const found = await images.find(ref);
      const bar = o.progress ? progressBar(data.size, true) : undefined;
      try {
        await images.stage(found.id, data.stream, { size: data.size, onProgress: bar?.update });
      } finally {
        bar?.end();
      }
    });

  showOptions(
    image
      .command('import')
      .description('start the import of an image (its data staged, at a URL, or copied to other stores)')
      .argument('<image>', 'image to import (name or ID)'),
  )
    .addOption(new Option('--method <method>', 'import method').choices(METHODS).default('glance-direct'))
    .option('--uri <uri>', "URL to download the image from (only with '--method=web-download')")
    .addOption(new Option('--store <store...>', 'store to import the image to (repeat for more)').conflicts('allStores'))
    .option('--all-stores <all-stores>', 'make the image available in every store')
    .option('--allow-failure', 'with several stores, go on when one of them fails (default)', true)
    .option('--disallow-failure', 'with several stores, revert when one of them fails')
    .option('--wait', 'wait until the import is over')
    .action(async (ref: string, o: ImportOptions & { disallowFailure?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const images = new ImageClient(session);
      const offered = await images.importMethods();
      if (!offered.includes(o.method))
        throw new ClientError(`The '${o.method}' import method is not supported by this deployment. Supported: ${offered.join(', ')}`);
      if (o.method === 'web-download' && !o.uri) throw new ClientError("The '--uri' option is required when using '--method=web-download'");
      if (o.method !== 'web-download' && o.uri) throw new ClientError("The '--uri' option is only supported when using '--method=web-download'");
      if (o.method === 'copy-image' && !o.store && !o.allStores)
        throw new ClientError("The '--stores' or '--all-stores' options are required when using '--method=copy-image'");
      const found = await images.find(ref);
      const needs: Record<string, string> = { 'glance-direct': 'uploading', 'web-download': 'queued', 'copy-image': 'active' };
      if (needs[o.method] && found.status !== needs[o.method]) {
        throw new ClientError(`The '${o.method}' import method can only be used with an image in status '${needs[o.method]}'`);
      }
      const request: ImportRequest = { method: { name: o.method, ...(o.uri ? { uri: o.uri } : {}) } };
      if (o.store) request.stores = o.store;
      if (o.allStores !== undefined) request.all_stores = !/^(false|0|no|off)$/i.test(o.allStores);
      if (o.disallowFailure) request.all_stores_must_succeed = true;
      await images.import(found.id, request);
      if (o.wait) await waitImported(images, found.id);
      // openstackclient shows the image as it found it before the import.
      await printShow(cmd, imageFields(found));
    });
}

/** Polls until the image leaves the import's statuses; a failed import puts it back to queued. */
async function waitImported(images: ImageClient, id: string): Promise<void> {
  for (;;) {
    const now = await images.get(id);
    if (now.status === 'active') return;
    if (now.status === 'queued') throw new ClientError(`The import of image ${id} failed; its tasks say why.`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
