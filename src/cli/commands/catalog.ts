import type { Command } from 'commander';
import { ClientError } from '../../client/errors.ts';
import type { CatalogEntry } from '../../client/session.ts';
import { connect } from '../context.ts';
import { Formatted, listOptions, printList, printShow, showOptions } from '../output.ts';

/** A service's endpoints: the raw list for machines, `REGION\n  interface: url` lines in tables. */
const endpoints = (entry: CatalogEntry) =>
  new Formatted(entry.endpoints, entry.endpoints.map((e) => `${e.region_id ?? e.region ?? '<none>'}\n  ${e.interface}: ${e.url}\n`).join(''));

export function register(catalog: Command): void {
  listOptions(catalog.command('list').description('list the services in the catalog of the current token')).action(async (_opts, cmd: Command) => {
    const { session } = await connect(cmd);
    await printList(
      cmd,
      ['Name', 'Type', 'Endpoints'],
      session.catalog.map((s) => [s.name, s.type, endpoints(s)]),
    );
  });

  showOptions(catalog.command('show').description('show a service of the catalog').argument('<service>', 'service type or name')).action(
    async (ref: string, _opts, cmd: Command) => {
      const { session } = await connect(cmd);
      const entry = session.catalog.find((s) => s.type === ref || s.name === ref);
      if (!entry) throw new ClientError(`service ${ref} not found`);
      await printShow(cmd, { endpoints: endpoints(entry), id: entry.id, name: entry.name, type: entry.type });
    },
  );
}
