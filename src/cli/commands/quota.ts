import type { Command } from 'commander';
import { ComputeClient, type QuotaSet } from '../../client/compute.ts';
import { ClientError, HttpError } from '../../client/errors.ts';
import { VolumeClient } from '../../client/volume.ts';
import type { Project } from '../../client/identity.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { logError, sortedFields } from './compute-columns.ts';
import { integer } from './image-options.ts';

/** Nova's quota resources by the option names openstackclient gives them. */
const COMPUTE_QUOTAS: [resource: string, option: string][] = [
  ['cores', 'cores'],
  ['fixed_ips', 'fixed-ips'],
  ['injected_file_content_bytes', 'injected-file-size'],
  ['injected_file_path_bytes', 'injected-path-size'],
  ['injected_files', 'injected-files'],
  ['instances', 'instances'],
  ['key_pairs', 'key-pairs'],
  ['metadata_items', 'properties'],
  ['ram', 'ram'],
  ['server_groups', 'server-groups'],
  ['server_group_members', 'server-group-members'],
];

/** The network resources Nova's quota set still holds at 2.1 (nova-network's names). */
const NOVA_NETWORK_QUOTAS: [string, string][] = [
  ['floating_ips', 'floating-ips'],
  ['security_group_rules', 'secgroup-rules'],
  ['security_groups', 'secgroups'],
];

/** Cinder's quota resources by openstackclient's option names; the first three also per volume
 * type (`--volume-type`), as `<resource>_<type>`. */
const VOLUME_QUOTAS: [string, string][] = [
  ['volumes', 'volumes'],
  ['snapshots', 'snapshots'],
  ['gigabytes', 'gigabytes'],
  ['backups', 'backups'],
  ['backup_gigabytes', 'backup-gigabytes'],
  ['per_volume_gigabytes', 'per-volume-gigabytes'],
];
const PER_TYPE = new Set(['volumes', 'snapshots', 'gigabytes']);

/** The block storage endpoint may be absent from the catalog: its part of a quota is then empty. */
async function volumePart<T>(session: ConstructorParameters<typeof VolumeClient>[0], get: (v: VolumeClient) => Promise<T>): Promise<T | undefined> {
  try {
    session.endpoint('block-storage');
  } catch {
    return undefined;
  }
  return get(new VolumeClient(session));
}

const LIST_COLUMNS: [string, string][] = [
  ['id', 'Project ID'],
  ['cores', 'Cores'],
  ['fixed_ips', 'Fixed IPs'],
  ['injected_files', 'Injected Files'],
  ['injected_file_content_bytes', 'Injected File Content Bytes'],
  ['injected_file_path_bytes', 'Injected File Path Bytes'],
  ['instances', 'Instances'],
  ['key_pairs', 'Key Pairs'],
  ['metadata_items', 'Metadata Items'],
  ['ram', 'Ram'],
  ['server_groups', 'Server Groups'],
  ['server_group_members', 'Server Group Members'],
];

const camel = (option: string) => option.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** The compute part of a quota set as openstackclient compares and lists it. */
const computePart = (q: QuotaSet) => COMPUTE_QUOTAS.map(([r]) => q[r] ?? '');

export function register(quota: Command): void {
  const set = quota.command('set').description("set a project's compute and volume quotas").argument('<project>', 'project to set the quotas of (name or ID)');
  for (const [resource, option] of [...COMPUTE_QUOTAS, ...VOLUME_QUOTAS])
    set.option(`--${option} <${option}>`, `new value for the ${option} quota (${resource})`, integer);
  set.option('--volume-type <volume-type>', 'set the volumes, snapshots and gigabytes quotas of this volume type');
  set.option('--force', 'set the quotas even when they are below what is in use');
  set.action(async (ref: string, o: Record<string, number | boolean | string | undefined>, cmd: Command) => {
    const changes: Record<string, number | boolean> = {};
    for (const [resource, option] of COMPUTE_QUOTAS) if (o[camel(option)] !== undefined) changes[resource] = o[camel(option)] as number;
    if (o.force) changes.force = true;
    const volumeChanges: Record<string, number> = {};
    for (const [resource, option] of VOLUME_QUOTAS) {
      if (o[camel(option)] === undefined) continue;
      volumeChanges[o.volumeType && PER_TYPE.has(resource) ? `${resource}_${o.volumeType}` : resource] = o[camel(option)] as number;
    }
    const { session, identity } = await connect(cmd);
    const project = await identity.projects.find(ref);
    if (Object.keys(changes).length) await new ComputeClient(session).updateQuotas(project.id, changes);
    if (Object.keys(volumeChanges).length) await new VolumeClient(session).updateQuotas(project.id, volumeChanges);
  });

  listOptions(quota.command('list').description('list the projects whose compute quotas differ from the defaults, or with --detail the usage of one project'))
    .option('--compute', 'list compute quotas (the only kind nubo lists)')
    .option('--detail', "show one project's limits and usage (the current project by default)")
    .option('--project <project>', 'only this project (name or ID)')
    .action(async (o: { compute?: boolean; detail?: boolean; project?: string }, cmd: Command) => {
      if (!o.compute) throw new ClientError('nubo lists compute quotas only: give --compute');
      const { session, identity } = await connect(cmd);
      const compute = new ComputeClient(session);
      if (o.detail) {
        const id = o.project ? (await identity.projects.find(o.project)).id : session.auth.project?.id;
        if (!id) throw new ClientError('Give --project: the current token is not scoped to a project.');
        const detail = await compute.quotas(id, true);
        const rows = Object.entries(detail).flatMap(([resource, v]) => (typeof v === 'object' ? [[resource, v.in_use, v.reserved, v.limit]] : []));
        return printList(cmd, ['Resource', 'In Use', 'Reserved', 'Limit'], rows);
      }
      const projects: Pick<Project, 'id'>[] = o.project ? [await identity.projects.find(o.project)] : await identity.projects.list();
      // openstackclient asks project after project; the answers do not depend on each other.
      const rows = await Promise.all(
        projects.map(async (p) => {
          let limits: QuotaSet;
          let defaults: QuotaSet;
          try {
            [limits, defaults] = await Promise.all([compute.quotas(p.id), compute.defaultQuotas(p.id)]);
          } catch (err) {
            if (!(err instanceof HttpError) || err.status < 400 || err.status > 499) throw err;
            logError(`Project ${p.id} not found: ${err.message}`);
            return undefined;
          }
          const mine = computePart(limits);
          if (mine.every((v, i) => v === computePart(defaults)[i])) return undefined;
          return LIST_COLUMNS.map(([key]) => (key === 'id' ? p.id : (limits[key] ?? '')));
        }),
      );
      await printList(
        cmd,
        LIST_COLUMNS.map(([, heading]) => heading),
        rows.filter((r) => r !== undefined),
      );
    });

  showOptions(
    quota
      .command('show')
      .description("show a project's compute and volume quotas (openstackclient's also shows the network service's, which this one leaves out)")
      .argument('[project]', 'project (name or ID; default: the current project)'),
  )
    .option('--default', 'show the default quotas instead')
    .action(async (ref: string | undefined, o: { default?: boolean }, cmd: Command) => {
      const { session, identity } = await connect(cmd);
      const project = ref ? await identity.projects.find(ref) : session.auth.project;
      if (!project) throw new ClientError('Give a project: the current token is not scoped to a project.');
      const compute = new ComputeClient(session);
      const [q, v] = await Promise.all([
        o.default ? compute.defaultQuotas(project.id) : compute.quotas(project.id),
        volumePart(session, (volume) => (o.default ? volume.defaultQuotas(project.id) : volume.quotas(project.id))),
      ]);
      const info: Record<string, unknown> = { ...q, ...v };
      for (const [resource, option] of [...COMPUTE_QUOTAS, ...NOVA_NETWORK_QUOTAS, ...VOLUME_QUOTAS]) {
        if (resource !== option && info[resource] !== undefined && info[resource] !== null) {
          info[option] = info[resource];
          delete info[resource];
        }
      }
      if ('id' in info) {
        info.project = info.id;
        delete info.id;
        delete info.project_id;
        info.project_name = project.name;
      }
      await printShow(cmd, sortedFields(info));
    });
}
