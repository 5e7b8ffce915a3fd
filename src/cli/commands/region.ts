import type { Command } from 'commander';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';

export function register(region: Command): void {
  listOptions(region.command('list').description('list regions')).action(async (_o, cmd: Command) => {
    const { identity } = await connect(cmd);
    const regions = await identity.regions.list();
    await printList(
      cmd,
      ['Region', 'Parent Region', 'Description'],
      regions.map((r) => [r.id, r.parent_region_id, r.description]),
    );
  });
}
