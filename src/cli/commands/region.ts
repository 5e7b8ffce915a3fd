import type { Command } from 'commander';
import type { Region } from '../../client/identity.ts';
import { connect, deleteEach } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';

/** openstackclient shows a region as description, parent_region, region and the other attributes
 * kept (enabled, which it sends), sorted by name. */
function shown(r: Region): Record<string, unknown> {
  const { id, parent_region_id, links: _, ...rest } = r;
  const fields: Record<string, unknown> = { ...rest, parent_region: parent_region_id, region: id };
  return Object.fromEntries(
    Object.keys(fields)
      .sort()
      .map((k) => [k, fields[k]]),
  );
}

export function register(region: Command): void {
  showOptions(region.command('create').description('create a new region').argument('<region-id>', 'new region ID'))
    .option('--parent-region <region-id>', 'parent region ID')
    .option('--description <description>', 'new region description')
    .action(async (id: string, o: { parentRegion?: string; description?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, shown(await identity.regions.create({ id, parent_region_id: o.parentRegion, description: o.description, enabled: true })));
    });

  region
    .command('delete')
    .description('delete regions')
    .argument('<region-id...>', 'region IDs')
    .action(async (ids: string[], _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('region', 'regions', ids, (id) => identity.regions.delete(id));
    });

  listOptions(region.command('list').description('list regions'))
    .option('--parent-region <region-id>', 'only the regions with this parent')
    .action(async (o: { parentRegion?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const regions = await identity.regions.list(o.parentRegion ? { parent_region_id: o.parentRegion } : undefined);
      await printList(
        cmd,
        ['Region', 'Parent Region', 'Description'],
        regions.map((r) => [r.id, r.parent_region_id, r.description]),
      );
    });

  region
    .command('set')
    .description('set region properties')
    .argument('<region-id>', 'region to modify')
    .option('--parent-region <region-id>', 'new parent region ID')
    .option('--description <description>', 'new region description')
    .action(async (id: string, o: { parentRegion?: string; description?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const fields = {
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.parentRegion !== undefined ? { parent_region_id: o.parentRegion } : {}),
      };
      // openstackclient sends nothing when nothing is asked.
      if (Object.keys(fields).length) await identity.regions.update(id, fields);
    });

  showOptions(region.command('show').description('display region details').argument('<region-id>', 'region to display')).action(
    async (id: string, _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, shown(await identity.regions.find(id)));
    },
  );
}
