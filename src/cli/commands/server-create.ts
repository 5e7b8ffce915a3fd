import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { ImageClient } from '../../client/image.ts';
import { NetworkClient } from '../../client/network.ts';
import { connect } from '../context.ts';
import { collect } from '../options.ts';
import { printShow, showOptions } from '../output.ts';
import { osError } from './compute-columns.ts';
import { integer, keyValue } from './image-options.ts';
import { serverFields, waitForStatus } from './server-format.ts';

interface Nic {
  'net-id': string;
  'port-id': string;
  'v4-fixed-ip': string;
  'v6-fixed-ip': string;
}

/** --nic, --network and --port, in the order given, as openstackclient gathers them into one list. */
const nics: (Nic | 'auto' | 'none')[] = [];

const NIC_FORM = "'net-id=net-uuid,port-id=port-uuid,v4-fixed-ip=ip-addr,v6-fixed-ip=ip-addr,tag=tag'";

/** Reads one --nic (or, with `key`, one --network or --port) as openstackclient's NICAction does. */
function nicParser(key?: 'net-id' | 'port-id') {
  return (value: string): string => {
    if (value === 'auto' || value === 'none') {
      nics.push(value);
      return value;
    }
    let spec = value;
    if (key) {
      if (value.includes(',') || value.includes('=')) throw new InvalidArgumentError(`Invalid argument ${value}; characters ',' and '=' are not allowed`);
      spec = `${key}=${value}`;
    }
    const nic: Nic = { 'net-id': '', 'port-id': '', 'v4-fixed-ip': '', 'v6-fixed-ip': '' };
    for (const pair of spec.split(',')) {
      const at = pair.indexOf('=');
      const [k, v] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      if (k === 'tag') throw new InvalidArgumentError('--os-compute-api-version 2.43 or greater is required to support the --nic tag field');
      if (!(k in nic) || !v) throw new InvalidArgumentError(`Invalid argument ${spec}; argument must be of form ${NIC_FORM}`);
      nic[k as keyof Nic] = v;
    }
    if (nic['net-id'] && nic['port-id']) throw new InvalidArgumentError(`Invalid argument ${spec}; either network or port should be specified but not both`);
    nics.push(nic);
    return value;
  };
}

interface CreateOptions {
  image?: string;
  volume?: string;
  snapshot?: string;
  bootFromVolume?: number;
  blockDevice: Record<string, string>[];
  flavor: string;
  securityGroup: string[];
  keyName?: string;
  property?: Record<string, string>;
  userData?: string;
  password?: string;
  availabilityZone?: string;
  useConfigDrive?: boolean;
  configDrive?: string | boolean;
  min: number;
  max: number;
  wait?: boolean;
}

/** config_drive as openstackclient sends it: true, a volume, or nothing (the API takes no false). */
function configDriveOf(o: CreateOptions): boolean | string | undefined {
  if (o.useConfigDrive) return true;
  if (typeof o.configDrive !== 'string') return undefined;
  const v = o.configDrive.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (['false', '0', '', 'none'].includes(v)) return undefined;
  return o.configDrive;
}

/** The networks of the request; undefined leaves them to Nova (below 2.37, the same as `auto`),
 * which from 2.37 wants them said: `auto` when no --nic is given, as openstackclient sends. */
async function networksOf(compute: ComputeClient, network: NetworkClient): Promise<{ networks?: unknown; version?: string }> {
  const required = await compute.atLeast('2.37');
  if (nics.includes('auto') || nics.includes('none')) {
    if (nics.length > 1) throw new ClientError('Specifying a --nic of auto or none cannot be used with any other --nic, --network or --port value.');
    if (required) return { networks: nics[0] };
    if (nics[0] === 'auto') return {};
    const max = (await compute.maxVersion()).split('.').map(Number);
    if (max[0] === 2 && max[1]! < 37) throw new ClientError(`--nic none needs compute API microversion 2.37; this cloud offers ${max.join('.')} at most`);
    return { networks: 'none', version: '2.37' };
  }
  if (!nics.length) return required ? { networks: 'auto' } : {};
  const networks = await Promise.all(
    (nics as Nic[]).map(async (nic) => {
      // Resolved through the network service as openstackclient does; a cloud without it gets
      // the reference as given, for the compute service to judge.
      const uuid = nic['net-id'] ? ((await network.findId('network', nic['net-id'])) ?? nic['net-id']) : undefined;
      const port = nic['port-id'] ? ((await network.findId('port', nic['port-id'])) ?? nic['port-id']) : undefined;
      const fixedIp = nic['v4-fixed-ip'] || nic['v6-fixed-ip'] || undefined;
      return { uuid, fixed_ip: fixedIp, port };
    }),
  );
  return { networks };
}

/** One --block-device: comma-separated key=value pairs, as openstackclient reads them. */
function blockDevice(value: string, previous: Record<string, string>[]): Record<string, string>[] {
  const mapping: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    if (at < 1) throw new InvalidArgumentError(`Invalid argument ${value}; argument must be of form 'key=value,key=value'`);
    mapping[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return [...previous, mapping];
}

const BOOLEAN = /^(1|t|true|on|y|yes|0|f|false|off|n|no)$/i;

/** The block_device_mapping_v2 of the request, built as openstackclient 6.0 builds it. */
async function mappingsOf(o: CreateOptions, volumes: () => Promise<import('../../client/volume.ts').VolumeClient>, imageId?: string) {
  const out: Record<string, unknown>[] = [];
  if (o.volume) out.push({ uuid: (await (await volumes()).findVolume(o.volume)).id, boot_index: '0', source_type: 'volume', destination_type: 'volume' });
  else if (o.snapshot) {
    const snap = await (await volumes()).findSnapshot(o.snapshot);
    out.push({ uuid: snap.id, boot_index: '0', source_type: 'snapshot', destination_type: 'volume', delete_on_termination: false });
  } else if (o.bootFromVolume !== undefined) {
    out.push({ uuid: imageId, boot_index: '0', source_type: 'image', destination_type: 'volume', volume_size: o.bootFromVolume });
  }
  for (const given of o.blockDevice) {
    const m: Record<string, unknown> = { ...given };
    if ('boot_index' in given) {
      if (!/^-?\d+$/.test(given.boot_index!)) throw new ClientError('The boot_index key of --block-device should be an integer');
      m.boot_index = Number(given.boot_index);
    }
    if ('tag' in given) throw new ClientError('--os-compute-api-version 2.42 or greater is required to support the tag key of --block-device');
    if ('volume_type' in given) throw new ClientError('--os-compute-api-version 2.67 or greater is required to support the volume_type key of --block-device');
    m.source_type ??= 'blank';
    if (!['volume', 'image', 'snapshot', 'blank'].includes(String(m.source_type)))
      throw new ClientError('The source_type key of --block-device should be one of: volume, image, snapshot, blank');
    m.destination_type ??= m.source_type === 'blank' ? 'local' : 'volume';
    if (!['local', 'volume'].includes(String(m.destination_type)))
      throw new ClientError('The destination_type key of --block-device should be one of: local, volume');
    if ('delete_on_termination' in given) {
      if (!BOOLEAN.test(given.delete_on_termination!)) throw new ClientError('The delete_on_termination key of --block-device should be a boolean-like value');
      m.delete_on_termination = /^(1|t|true|on|y|yes)$/i.test(given.delete_on_termination!);
    } else if (m.destination_type === 'local') m.delete_on_termination = true;
    out.push(m);
  }
  return out;
}

export function registerCreate(server: Command): void {
  const create = server
    .command('create')
    .description('create a server, and with --wait, wait until it is running')
    .argument('<server-name>', 'new server name');
  showOptions(create)
    .option('--image <image>', 'boot disk from this image (name or ID)')
    .option('--volume <volume>', 'boot from this volume (name or ID)')
    .option('--snapshot <snapshot>', 'boot from a new volume made from this volume snapshot (name or ID)')
    .option('--boot-from-volume <volume-size>', 'boot from a new volume of this size (GiB) made from --image', integer)
    .option(
      '--block-device <key=value,...>',
      'a block device: uuid, source_type (volume, image, snapshot, blank), destination_type, volume_size, delete_on_termination, boot_index, device_name (repeat for more)',
      blockDevice,
      [],
    )
    .requiredOption('--flavor <flavor>', 'flavor of the server (name or ID)')
    .option(
      '--nic <net-id=net-uuid,port-id=port-uuid,v4-fixed-ip=ip-addr,v6-fixed-ip=ip-addr,auto,none>',
      'a NIC on the server (repeat for more); auto or none alone',
      nicParser(),
    )
    .option('--network <network>', 'a NIC on this network (name or ID); short for --nic net-id=<network>', nicParser('net-id'))
    .option('--port <port>', 'a NIC on this port (name or ID); short for --nic port-id=<port>', nicParser('port-id'))
    .option('--security-group <security-group>', 'security group of the server (name or ID) (repeat for more)', collect, [])
    .option('--key-name <key-name>', 'key pair to put in the server')
    .option('--property <key=value>', 'metadata item of the server (repeat for more)', keyValue)
    .option('--user-data <user-data>', 'file the metadata service and config drive serve as user data')
    .option('--password <password>', "the server's admin password (needs cloud support)")
    .option('--availability-zone <zone-name>', 'availability zone of the server')
    .addOption(new Option('--use-config-drive', 'attach a config drive').conflicts('configDrive'))
    .option('--config-drive <config-drive-volume>', "deprecated: 'True' attaches a config drive")
    .option('--no-config-drive', 'attach no config drive (the default)')
    .option('--min <count>', 'the fewest servers to create', integer, 1)
    .option('--max <count>', 'the most servers to create', integer, 1)
    .option('--wait', 'wait until the server is ACTIVE; fail if it goes to ERROR')
    .action(async (name: string, o: CreateOptions, cmd: Command) => {
      // The checks that need no cloud come first.
      if (o.volume && o.bootFromVolume !== undefined) throw new ClientError('--volume is not allowed with --boot-from-volume');
      if (o.snapshot && o.bootFromVolume !== undefined) throw new ClientError('--snapshot is not allowed with --boot-from-volume');
      const bootsFromBlockDevice = o.blockDevice.some((m) => m.boot_index === '0');
      if (!o.image && !o.volume && !o.snapshot && !bootsFromBlockDevice) {
        throw new ClientError('An image (--image, --image-property) or bootable volume (--volume, --snapshot, --block-device) is required');
      }
      if (o.bootFromVolume !== undefined && !o.image) throw new ClientError('An image (--image) is required to boot from a new volume (--boot-from-volume)');
      if (o.min > o.max) throw new ClientError('min instances should be <= max instances');
      if (o.min < 1) throw new ClientError('min instances should be > 0');
      if (o.max < 1) throw new ClientError('max instances should be > 0');
      let userData: string | undefined;
      if (o.userData) {
        try {
          userData = readFileSync(o.userData).toString('base64');
        } catch (err) {
          throw new ClientError(`Can't open '${o.userData}': ${osError(err, o.userData)}`);
        }
      }
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const images = new ImageClient(session);
      const network = new NetworkClient(session);
      const [image, flavor, nets, groups] = await Promise.all([
        o.image ? images.find(o.image) : undefined,
        compute.findFlavor(o.flavor, 'nova'),
        networksOf(compute, network),
        Promise.all(o.securityGroup.map(async (g) => (await network.findId('security-group', g)) ?? g)),
      ]);
      const volumes = async () => new (await import('../../client/volume.ts')).VolumeClient(session);
      const mappings = await mappingsOf(o, volumes, image?.id);
      const body: Record<string, unknown> = {
        name,
        // A server booted from a new volume gets the image through its mapping only.
        imageRef: image && o.bootFromVolume === undefined ? image.id : '',
        block_device_mapping_v2: mappings.length ? mappings : undefined,
        flavorRef: flavor.id,
        min_count: o.min,
        max_count: o.max,
        metadata: o.property,
        user_data: userData,
        key_name: o.keyName,
        availability_zone: o.availabilityZone,
        adminPass: o.password,
        security_groups: groups.length ? groups.map((g) => ({ name: g })) : undefined,
        networks: nets.networks,
        config_drive: configDriveOf(o),
      };
      const created = await compute.createServer(body, nets.version);
      if (o.wait) {
        if (!(await waitForStatus(() => compute.server(created.id)))) {
          const s = await compute.server(created.id);
          throw new ClientError(`Error creating server ${name}: ${s.fault?.message ?? `it is ${s.status}`}`);
        }
        process.stdout.write('\n');
      }
      await printShow(cmd, await serverFields(compute, images, await compute.server(created.id), created));
    });
}
