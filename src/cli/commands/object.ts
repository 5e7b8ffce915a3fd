import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { objectStore, pagingOptions, pagingQuery, properties, sortedShow, type PagingOptions } from './container.ts';
import { dataSource } from './image-data.ts';

export function register(object: Command): void {
  listOptions(
    object
      .command('create')
      .description('upload objects to a container')
      .argument('<container>', 'container for the new objects')
      .argument('<filename...>', 'local files to upload'),
  )
    .option('--name <name>', 'upload a file under this name (one file only)')
    .action(async (container: string, files: string[], o: { name?: string }, cmd: Command) => {
      if (o.name && files.length > 1) throw new ClientError('Attempting to upload multiple objects and using --name is not permitted');
      const store = await objectStore(cmd);
      const rows: unknown[][] = [];
      for (const file of files) {
        // dataSource opens the file first, so that one that cannot be read fails before any request.
        const { stream, size } = dataSource(file)!;
        const name = o.name ?? file;
        const headers = await store.upload(container, name, stream, size);
        rows.push([name, container, headers.get('etag')]);
      }
      await printList(cmd, ['object', 'container', 'etag'], rows);
    });

  object
    .command('delete')
    .description('delete objects from a container')
    .argument('<container>', 'container that holds the objects')
    .argument('<object...>', 'objects to delete')
    .action(async (container: string, names: string[], _o: unknown, cmd: Command) => {
      const store = await objectStore(cmd);
      // In order, stopping at the first failure, as openstackclient does.
      for (const name of names) await store.deleteObject(container, name);
    });

  pagingOptions(object.command('list').description('list the objects of a container').argument('<container>', 'container to list'), 'objects')
    .option('--delimiter <delimiter>', 'roll up the names that share a prefix ending in this character')
    .action(async (container: string, o: PagingOptions & { delimiter?: string }, cmd: Command) => {
      const store = await objectStore(cmd);
      const list = await store.objects(container, { ...pagingQuery(o), delimiter: o.delimiter }, o.all);
      // A delimited listing's pseudo-directories have a subdir and nothing else: openstackclient
      // shows them as empty rows, since it reads the name column only.
      if (o.long)
        await printList(
          cmd,
          ['Name', 'Bytes', 'Hash', 'Content Type', 'Last Modified'],
          list.map((e) => [e.name, e.bytes, e.hash, e.content_type, e.last_modified]),
        );
      else
        await printList(
          cmd,
          ['Name'],
          list.map((e) => [e.name]),
        );
    });

  object
    .command('save')
    .description('save an object locally')
    .argument('<container>', 'container that holds the object')
    .argument('<object>', 'object to save')
    .option('--file <filename>', "where to save it (default: the object's name); '-' writes it to stdout")
    .action(async (container: string, name: string, o: { file?: string }, cmd: Command) => {
      const store = await objectStore(cmd);
      const file = o.file ?? name;
      if (file === '-') return store.download(container, name, () => process.stdout, { end: false });
      // The file (and its directory) is made only once the object's data is on its way, as
      // openstackclient does.
      await store.download(container, name, () => {
        mkdirSync(dirname(file), { recursive: true });
        return createWriteStream(file);
      });
    });

  showOptions(
    object
      .command('show')
      .description('display object details')
      .argument('<container>', 'container that holds the object')
      .argument('<object>', 'object to display'),
  ).action(async (container: string, name: string, _o: unknown, cmd: Command) => {
    const store = await objectStore(cmd);
    const h = await store.object(container, name);
    const optional = (header: string) => (h.has(header) ? { [header]: h.get(header) } : {});
    await printShow(
      cmd,
      sortedShow(
        {
          account: store.account,
          container,
          object: name,
          'content-type': h.get('content-type'),
          ...optional('content-length'),
          ...optional('last-modified'),
          ...optional('etag'),
          ...optional('x-object-manifest'),
        },
        properties(h, 'x-object-meta-'),
      ),
    );
  });
}
