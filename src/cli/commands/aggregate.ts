import type { Command } from 'commander';
import { ComputeHostsClient, type Aggregate } from '../../client/compute-hosts.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { dictColumn, listColumn } from './compute-columns.ts';
import { keyValue } from './image-options.ts';

/** Metadata without availability_zone, which openstackclient leaves out where Nova repeats the zone there. */
const withoutZone = (metadata: Record<string, string>) => Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'availability_zone'));

/** An aggregate's fields as openstacksdk names them (metadata as properties), sorted. */
const fields = (a: Aggregate, metadata = a.metadata) => ({
  availability_zone: a.availability_zone,
  created_at: a.created_at,
  deleted_at: a.deleted_at,
  hosts: listColumn(a.hosts ?? []),
  id: a.id,
  is_deleted: a.deleted,
  name: a.name,
  properties: dictColumn(metadata),
  updated_at: a.updated_at,
  uuid: a.uuid ?? null,
});

/** `aggregate create|list|show|set|add host|remove host|delete`: Nova's host aggregates. */
export function register(aggregate: Command): void {
  showOptions(aggregate.command('create').description('create an aggregate').argument('<name>', 'new aggregate name'))
    .option('--zone <availability-zone>', 'availability zone name')
    .option('--property <key=value>', 'property to add to this aggregate (repeat for more)', keyValue)
    .action(async (name: string, o: { zone?: string; property?: Record<string, string> }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      let made = await client.createAggregate(name, o.zone);
      if (o.property) made = await client.aggregateAction(made.id, { set_metadata: { metadata: o.property } });
      await printShow(cmd, fields(made));
    });

  listOptions(aggregate.command('list').description('list aggregates'))
    .option('--long', 'list additional fields in output')
    .action(async (o: { long?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const all = await new ComputeHostsClient(session).aggregates();
      if (!o.long)
        return printList(
          cmd,
          ['ID', 'Name', 'Availability Zone'],
          all.map((a) => [a.id, a.name, a.availability_zone]),
        );
      await printList(
        cmd,
        ['ID', 'Name', 'Availability Zone', 'Properties', 'Hosts'],
        all.map((a) => [a.id, a.name, a.availability_zone, dictColumn(withoutZone(a.metadata)), listColumn(a.hosts ?? [])]),
      );
    });

  showOptions(aggregate.command('show').description('show an aggregate').argument('<aggregate>', 'aggregate (name or ID)')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await new ComputeHostsClient(session).findAggregate(ref);
      await printShow(cmd, fields(found, withoutZone(found.metadata)));
    },
  );

  aggregate
    .command('set')
    .description("set an aggregate's name, zone or properties")
    .argument('<aggregate>', 'aggregate (name or ID)')
    .option('--name <name>', 'new name')
    .option('--zone <availability-zone>', 'new availability zone')
    .option('--property <key=value>', 'property to set (repeat for more)', keyValue)
    .option('--no-property', 'remove all properties first (availability_zone stays)')
    .action(async (ref: string, o: { name?: string; zone?: string; property?: Record<string, string> | false }, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      const found = await client.findAggregate(ref);
      if (o.name || o.zone) await client.updateAggregate(found.id, { name: o.name, availability_zone: o.zone });
      // commander's --no-property makes `property` false; with --property given too it holds the pairs.
      const clear = process.argv.includes('--no-property');
      const metadata: Record<string, string | null> = clear ? Object.fromEntries(Object.keys(withoutZone(found.metadata)).map((k) => [k, null])) : {};
      Object.assign(metadata, o.property || {});
      if (Object.keys(metadata).length) await client.aggregateAction(found.id, { set_metadata: { metadata } });
    });

  for (const [verb, action, help] of [
    ['add', 'add_host', 'add a host to an aggregate'],
    ['remove', 'remove_host', 'remove a host from an aggregate'],
  ] as const) {
    showOptions(aggregate.command(verb).description(`${verb} hosts`).command('host').description(help))
      .argument('<aggregate>', 'aggregate (name or ID)')
      .argument('<host>', 'host')
      .action(async (ref: string, host: string, _o, cmd: Command) => {
        const { session } = await connect(cmd);
        const client = new ComputeHostsClient(session);
        const found = await client.findAggregate(ref);
        await printShow(cmd, fields(await client.aggregateAction(found.id, { [action]: { host } })));
      });
  }

  aggregate
    .command('delete')
    .description('delete aggregates')
    .argument('<aggregate...>', 'aggregates to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new ComputeHostsClient(session);
      await deleteCounted(
        refs,
        'aggregates',
        (ref) => `Failed to delete aggregate with name or ID '${ref}'`,
        async (ref) => client.deleteAggregate((await client.findAggregate(ref)).id),
      );
    });
}
