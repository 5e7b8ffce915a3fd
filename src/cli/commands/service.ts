import type { Command } from 'commander';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';

export function register(service: Command): void {
  listOptions(service.command('list').description('list services'))
    .option('--long', 'list more fields')
    .action(async (o: { long?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const services = await identity.services.list();
      const columns = o.long ? ['ID', 'Name', 'Type', 'Description', 'Enabled'] : ['ID', 'Name', 'Type'];
      await printList(
        cmd,
        columns,
        services.map((s) => (o.long ? [s.id, s.name, s.type, s.description, s.enabled] : [s.id, s.name, s.type])),
      );
    });
}
