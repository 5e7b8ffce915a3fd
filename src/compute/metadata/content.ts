import { randomBytes } from 'node:crypto';
import type { NetworkData } from '../../network/network-data.ts';
import type { Server } from '../servers.ts';

// What a guest learns about itself, in the OpenStack metadata format that cloud-init reads, from
// the config drive or from the metadata service alike.

export function metaData(s: Server) {
  return {
    uuid: s.id,
    name: s.name,
    hostname: s.hostname,
    launch_index: 0,
    availability_zone: s.availabilityZone ?? 'nova',
    project_id: s.projectId,
    meta: s.metadata,
    ...(s.keyName && s.keyData
      ? { public_keys: { [s.keyName]: s.keyData }, keys: [{ name: s.keyName, type: 'ssh', data: s.keyData }] }
      : { public_keys: {}, keys: [] }),
    devices: [],
    random_seed: randomBytes(512).toString('base64'),
  };
}

export const vendorData = () => ({});

/** The user data as the guest gets it: the bytes the user gave, base64-decoded. */
export const userData = (s: Server) => (s.userData ? Buffer.from(s.userData, 'base64') : undefined);

/** The files of the `openstack/latest` tree, by name. */
export function openstackTree(s: Server, network: NetworkData): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {
    'meta_data.json': JSON.stringify(metaData(s)),
    'network_data.json': JSON.stringify(network),
    'vendor_data.json': JSON.stringify(vendorData()),
    'vendor_data2.json': JSON.stringify({}),
  };
  const data = userData(s);
  if (data) files.user_data = data;
  return files;
}
