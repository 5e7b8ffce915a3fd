import type { ComputeClient, Flavor, Server } from '../../client/compute.ts';
import type { Image, ImageClient } from '../../client/image.ts';
import { ClientError } from '../../client/errors.ts';
import { dictColumn, dictListColumn, listColumn, listDictColumn, powerState, sortedFields } from './compute-columns.ts';

/** What openstackclient shows for the image of a server booted from a volume. */
export const BOOTED_FROM_VOLUME = 'N/A (booted from volume)';

/** The image ID of a server, or undefined for one booted from a volume (Nova gives ""). */
const imageIdOf = (s: Server): string | undefined => {
  const image = s.image as { id?: string } | '' | undefined;
  return image && typeof image === 'object' ? (image.id ?? '') : undefined;
};

/** A server's addresses by network label, as novaclient's `networks` lists them. */
const networksOf = (s: Server): Record<string, string[]> =>
  Object.fromEntries(Object.entries((s.addresses ?? {}) as Record<string, { addr: string }[]>).map(([label, list]) => [label, list.map((a) => a.addr)]));

/**
 * A server as `server show` and `server create` print it: image and flavor named, metadata as
 * `properties`, tenant_id as `project_id`, the power state in words, fields sorted. `before`
 * holds what an earlier answer said (the create's adminPass), which the server's view updates.
 */
export async function serverFields(
  compute: ComputeClient,
  images: ImageClient,
  s: Server,
  before: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const info: Record<string, unknown> = { ...before, ...s };
  const imageId = imageIdOf(s);
  const flavor = (s.flavor ?? {}) as { id?: string } & Record<string, unknown>;
  // openstackclient asks for the names one after the other; they are independent.
  const [imageName, flavorName] = await Promise.all([
    imageId === undefined
      ? undefined
      : images.get(imageId).then(
          (i) => i.name,
          () => undefined,
        ),
    'id' in flavor
      ? compute.flavor(flavor.id!).then(
          (f) => f.name,
          () => undefined,
        )
      : undefined,
  ]);
  info.image = imageId === undefined ? BOOTED_FROM_VOLUME : imageName !== undefined ? `${imageName} (${imageId})` : imageId;
  info.flavor = 'id' in flavor ? (flavorName !== undefined ? `${flavorName} (${flavor.id})` : flavor.id) : dictColumn(flavor);
  const attached = 'os-extended-volumes:volumes_attached';
  if (attached in info) {
    info.volumes_attached = listDictColumn(info[attached] as Record<string, unknown>[]);
    delete info[attached];
  }
  if ('security_groups' in info) info.security_groups = listDictColumn(info.security_groups as Record<string, unknown>[]);
  if ('tags' in info) info.tags = listColumn(info.tags as string[]);
  info.addresses = dictListColumn(networksOf(s));
  info.properties = dictColumn(s.metadata);
  delete info.metadata;
  if ('tenant_id' in info) {
    info.project_id = info.tenant_id;
    delete info.tenant_id;
  }
  if ('OS-EXT-STS:power_state' in info) info['OS-EXT-STS:power_state'] = powerState(info['OS-EXT-STS:power_state'] as number);
  delete info.links;
  return sortedFields(info);
}

/** What `server list` looks up to name images and flavors. */
export interface Names {
  images: Map<string, string>;
  flavors: Map<string, string>;
}

/**
 * The names of images and flavors, looked up as openstackclient does: every image and flavor in
 * one listing each, or `oneByOne`, each ID the servers use (failures are left unnamed).
 */
export async function lookupNames(compute: ComputeClient, images: ImageClient, servers: () => Promise<Server[]>, oneByOne: boolean): Promise<Names> {
  const byId = <T extends { id: string; name: string | null }>(items: T[]) => new Map(items.map((i) => [i.id, i.name ?? '']));
  if (!oneByOne) {
    const [i, f] = await Promise.all([images.list().catch((): Image[] => []), compute.flavors({ is_public: 'None' }).catch((): Flavor[] => [])]);
    return { images: byId(i), flavors: byId(f) };
  }
  const list = await servers();
  const imageIds = [...new Set(list.map(imageIdOf).filter((id): id is string => !!id))];
  const flavorIds = [...new Set(list.map((s) => (s.flavor as { id?: string } | undefined)?.id).filter((id): id is string => !!id))];
  const [i, f] = await Promise.all([
    Promise.all(imageIds.map((id) => images.get(id).catch(() => undefined))),
    Promise.all(flavorIds.map((id) => compute.flavor(id).catch(() => undefined))),
  ]);
  return { images: byId(i.filter((x) => x !== undefined)), flavors: byId(f.filter((x) => x !== undefined)) };
}

/** An attribute as openstackclient reads it off a server: '' when the server has none. */
const attr = (s: Server, key: string): unknown => (key in s ? (s as Record<string, unknown>)[key] : '');

/** The columns `server list -c` may add, by the names it takes, and their values. */
const EXTRA: [names: string[], heading: string, value: (s: Server) => unknown][] = [
  [['Project ID', 'project_id'], 'Project ID', (s) => attr(s, 'tenant_id')],
  [['User ID', 'user_id'], 'User ID', (s) => attr(s, 'user_id')],
  [['Created At', 'created_at'], 'Created At', (s) => attr(s, 'created')],
  [['Security Groups', 'security_groups'], 'Security Groups', (s) => listColumn((s.security_groups ?? []).map((g) => g.name))],
  [['Task State', 'task_state'], 'Task State', (s) => attr(s, 'OS-EXT-STS:task_state')],
  [['Power State', 'power_state'], 'Power State', (s) => powerState(s['OS-EXT-STS:power_state'])],
  [['Image ID', 'image_id'], 'Image ID', (s) => imageIdOf(s) ?? BOOTED_FROM_VOLUME],
  [['Flavor ID', 'flavor_id'], 'Flavor ID', (s) => s.flavor?.id ?? ''],
  [['Availability Zone', 'availability_zone'], 'Availability Zone', (s) => attr(s, 'OS-EXT-AZ:availability_zone')],
  [['Host', 'host'], 'Host', (s) => attr(s, 'OS-EXT-SRV-ATTR:host')],
  // openstackclient shows this one unformatted.
  [['Properties', 'properties'], 'Properties', (s) => s.metadata ?? {}],
];

/** The headings and rows of `server list`, as openstackclient 6.0 builds them at the microversion
 * the servers were listed at: from 2.47 a server embeds its flavor (by name, without the ID), from
 * 2.16 it may carry its host's status. */
export function serverTable(
  servers: Server[],
  names: Names | undefined,
  opts: { long?: boolean; column?: string[]; embeddedFlavor?: boolean; hostStatus?: boolean },
): { columns: string[]; rows: unknown[][] } {
  const cols: [string, (s: Server) => unknown][] = [
    ['ID', (s) => s.id],
    ['Name', (s) => s.name],
    ['Status', (s) => s.status],
  ];
  const imageName = (s: Server) => {
    const id = imageIdOf(s);
    return id === undefined ? BOOTED_FROM_VOLUME : (names?.images.get(id) ?? '');
  };
  const flavorName = (s: Server) => (s.flavor?.id !== undefined ? (names?.flavors.get(s.flavor.id) ?? '') : '');
  const originalName = (s: Server) => (s.flavor as { original_name?: string } | undefined)?.original_name ?? '';
  if (opts.long) cols.push(['Task State', (s) => attr(s, 'OS-EXT-STS:task_state')], ['Power State', (s) => powerState(s['OS-EXT-STS:power_state'])]);
  cols.push(['Networks', (s) => dictListColumn(networksOf(s))]);
  if (opts.long) {
    cols.push(['Image Name', imageName], ['Image ID', (s) => imageIdOf(s) ?? BOOTED_FROM_VOLUME]);
    if (opts.embeddedFlavor) cols.push(['Flavor', originalName]);
    else cols.push(['Flavor Name', flavorName], ['Flavor ID', (s) => s.flavor?.id ?? '']);
    cols.push(
      ['Availability Zone', (s) => attr(s, 'OS-EXT-AZ:availability_zone')],
      ['Host', (s) => attr(s, 'OS-EXT-SRV-ATTR:host')],
      ['Properties', (s) => dictColumn(s.metadata)],
    );
  } else {
    cols.push(['Image', names ? imageName : (s) => imageIdOf(s) ?? BOOTED_FROM_VOLUME]);
    cols.push(['Flavor', opts.embeddedFlavor ? originalName : names ? flavorName : (s) => s.flavor?.id ?? '']);
  }
  if (opts.long && opts.hostStatus && servers.some((s) => 'host_status' in s)) cols.push(['Host Status', (s) => attr(s, 'host_status')]);
  for (const wanted of opts.column ?? []) {
    const extra = EXTRA.find(([aliases]) => aliases.includes(wanted));
    if (extra && !cols.some(([heading]) => heading === extra[1])) cols.push([extra[1], extra[2]]);
  }
  return { columns: cols.map(([heading]) => heading), rows: servers.map((s) => cols.map(([, value]) => value(s))) };
}

/** Waits a little longer each time: a fake guest is ready at once, a real one takes seconds. */
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(2000, 200 * 1.5 ** attempt)));

/**
 * Polls until the resource's status is one of `done` (true) or `failed` (false), printing
 * Nova's progress on stdout meanwhile as openstackclient does (`\rProgress: 40`).
 */
export async function waitForStatus(
  get: () => Promise<{ status?: string; progress?: number | null }>,
  done = ['active'],
  failed = ['error'],
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const r = await get();
    const status = (r.status ?? '').toLowerCase();
    if (done.includes(status)) return true;
    if (failed.includes(status)) return false;
    if (r.progress) process.stdout.write(`\rProgress: ${r.progress}`);
    await pause(attempt);
  }
}

/** openstackclient's --wait after an action: polls until the server is in one of `done`, then
 * prints Complete; one that goes to ERROR fails with "Error <doing> server". */
export async function waitComplete(compute: ComputeClient, id: string, doing: string, done?: string[]): Promise<void> {
  if (!(await waitForStatus(() => compute.server(id), done))) throw new ClientError(`Error ${doing} server: ${id}`);
  process.stdout.write('Complete\n');
}

/** Polls until the server is gone (true), or has gone to ERROR (false). */
export async function waitForDelete(compute: ComputeClient, id: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let s: Server;
    try {
      s = await compute.server(id);
    } catch (err) {
      if (err instanceof ClientError && 'status' in err && err.status === 404) return true;
      throw err;
    }
    if (s.status.toLowerCase() === 'error') return false;
    if (s.progress) process.stdout.write(`\rProgress: ${s.progress}`);
    await pause(attempt);
  }
}
