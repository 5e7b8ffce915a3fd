import { Option, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { VolumeClient } from '../../client/volume.ts';
import { ClientError } from '../../client/errors.ts';
import { connect } from '../context.ts';
import { listOptions, printList } from '../output.ts';
import { domainFilter } from './project.ts';

/** `limits show`: the compute limits and usage of a project, then the volume service's for the
 * token's own project, as openstackclient shows them (it asks the volume service for no other). */
export function register(limits: Command): void {
  listOptions(limits.command('show').description('show compute limits: --absolute (limits and usage) or --rate'))
    .addOption(new Option('--absolute', 'show absolute limits').conflicts('rate'))
    .option('--rate', 'show rate limits')
    .option('--reserved', 'include reservations count (with --absolute)')
    .option('--project <project>', 'the limits of this project (name or ID) (with --absolute)')
    .option('--domain <domain>', 'domain the project belongs to (name or ID) (with --absolute)')
    .action(async (o: { absolute?: boolean; rate?: boolean; reserved?: boolean; project?: string; domain?: string }, cmd: Command) => {
      if (!o.absolute && !o.rate) throw new ClientError('one of the options --absolute --rate is required');
      const { session, identity } = await connect(cmd);
      const project = o.project ? await identity.projects.find(o.project, await domainFilter(identity, o.domain)) : undefined;
      const hasVolumes = session.catalog.some((s) => s.type === 'block-storage' || s.type === 'volumev3');
      const [found, volume] = await Promise.all([
        new ComputeClient(session).limits({ reserved: o.reserved, tenant_id: project?.id }),
        hasVolumes ? new VolumeClient(session).limits() : undefined,
      ]);
      if (o.absolute) return printList(cmd, ['Name', 'Value'], [...Object.entries(found.absolute), ...Object.entries(volume?.absolute ?? {})]);
      const rows = [...found.rate, ...(volume?.rate ?? [])].flatMap((r) => r.limit.map((l) => [l.verb, r.uri, l.value, l.remaining, l.unit, l['next-available']]));
      await printList(cmd, ['Verb', 'URI', 'Value', 'Remain', 'Unit', 'Next Available'], rows);
    });
}
