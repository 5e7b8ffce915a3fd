import type { Command } from 'commander';
import { ObjectStoreClient } from '../../client/object-store.ts';
import type { Query } from '../../client/http.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { dictColumn } from './compute-columns.ts';

/** The object store of the logged-in project. */
export const objectStore = async (cmd: Command) => new ObjectStoreClient((await connect(cmd)).session);

/** X-<Kind>-Meta-* headers as openstackclient's properties column shows them. */
export function properties(headers: Headers, prefix: string): Record<string, string> {
  return Object.fromEntries([...headers].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Fields sorted by name, as openstackclient shows containers and objects; properties when any. */
export function sortedShow(fields: Record<string, unknown>, props: Record<string, string>): Record<string, unknown> {
  const all: Record<string, unknown> = { ...fields, ...(Object.keys(props).length ? { properties: dictColumn(props) } : {}) };
  return Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((k) => [k, all[k]]),
  );
}

/** The paging options of Swift's listings, as openstackclient's container and object lists take them. */
export const pagingOptions = (cmd: Command, what: string) =>
  listOptions(cmd)
    .option('--prefix <prefix>', 'filter the list by this prefix')
    .option('--marker <marker>', 'anchor for paging')
    .option('--end-marker <end-marker>', 'end anchor for paging')
    .option('--limit <limit>', `list at most this many ${what}`)
    .option('--long', 'list additional fields')
    .option('--all', `list all ${what} (the default is 10000)`);

export interface PagingOptions {
  prefix?: string;
  marker?: string;
  endMarker?: string;
  limit?: string;
  long?: boolean;
  all?: boolean;
}

export const pagingQuery = (o: PagingOptions): Query => ({ prefix: o.prefix, marker: o.marker, end_marker: o.endMarker, limit: o.limit });

// Any project may read a public container, as openstackclient's --public allows it.
const PUBLIC_READ = '.r:*,.rlistings';

export function register(container: Command): void {
  listOptions(container.command('create').description('create new containers').argument('<container-name...>', 'new container names'))
    .option('--public', 'make the containers publicly readable')
    .option('--storage-policy <storage-policy>', 'the storage policy of the containers')
    .action(async (names: string[], o: { public?: boolean; storagePolicy?: string }, cmd: Command) => {
      const store = await objectStore(cmd);
      const headers: Record<string, string> = {
        ...(o.public ? { 'x-container-read': PUBLIC_READ } : {}),
        ...(o.storagePolicy ? { 'x-storage-policy': o.storagePolicy } : {}),
      };
      const rows: unknown[][] = [];
      for (const name of names) rows.push([store.account, name, await store.createContainer(name, headers)]);
      await printList(cmd, ['account', 'container', 'x-trans-id'], rows);
    });

  container
    .command('delete')
    .description('delete containers')
    .argument('<container...>', 'containers to delete')
    .option('-r, --recursive', 'delete the objects of the containers first')
    .action(async (names: string[], o: { recursive?: boolean }, cmd: Command) => {
      const store = await objectStore(cmd);
      // In order, stopping at the first failure, as openstackclient does.
      for (const name of names) {
        if (o.recursive) for (const obj of await store.objects(name, {}, true)) await store.deleteObject(name, obj.name);
        await store.deleteContainer(name);
      }
    });

  pagingOptions(container.command('list').description('list containers'), 'containers').action(async (o: PagingOptions, cmd: Command) => {
    const store = await objectStore(cmd);
    const list = await store.containers(pagingQuery(o), o.all);
    if (o.long)
      await printList(
        cmd,
        ['Name', 'Bytes', 'Count'],
        list.map((c) => [c.name, c.bytes, c.count]),
      );
    else
      await printList(
        cmd,
        ['Name'],
        list.map((c) => [c.name]),
      );
  });

  showOptions(container.command('show').description('display container details').argument('<container>', 'container to display')).action(
    async (name: string, _o: unknown, cmd: Command) => {
      const store = await objectStore(cmd);
      const h = await store.container(name);
      const optional = (header: string, field: string) => (h.has(header) ? { [field]: h.get(header) } : {});
      await printShow(
        cmd,
        sortedShow(
          {
            account: store.account,
            container: name,
            object_count: h.get('x-container-object-count'),
            bytes_used: h.get('x-container-bytes-used'),
            storage_policy: h.get('x-storage-policy'),
            ...optional('x-container-read', 'read_acl'),
            ...optional('x-container-write', 'write_acl'),
            ...optional('x-container-sync-to', 'sync_to'),
            ...optional('x-container-sync-key', 'sync_key'),
          },
          properties(h, 'x-container-meta-'),
        ),
      );
    },
  );
}
