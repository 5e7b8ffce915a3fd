/** Who asks, as the telemetry functions need it: an admin sees every project's resources and
 * metrics, anyone else those of the project of their token. */
export interface Caller {
  userId: string;
  projectId: string;
  admin: boolean;
}

/** The attributes each of Gnocchi's resource types adds, as Ceilometer defines them, and which
 * of them a create must give. */
export const RESOURCE_TYPES: Record<string, Record<string, { type: 'string' | 'uuid' | 'number'; required: boolean }>> = {
  generic: {},
  instance: {
    flavor_id: { type: 'string', required: true },
    image_ref: { type: 'string', required: false },
    host: { type: 'string', required: true },
    display_name: { type: 'string', required: true },
    server_group: { type: 'string', required: false },
    flavor_name: { type: 'string', required: false },
  },
  instance_disk: { name: { type: 'string', required: true }, instance_id: { type: 'uuid', required: true } },
  instance_network_interface: { name: { type: 'string', required: true }, instance_id: { type: 'uuid', required: true } },
  volume: {
    display_name: { type: 'string', required: false },
    volume_type: { type: 'string', required: false },
    image_id: { type: 'uuid', required: false },
    instance_id: { type: 'uuid', required: false },
  },
  // Ceilometer's type for what the network service meters (here routers and floating IPs).
  network: {},
  image: { name: { type: 'string', required: true }, container_format: { type: 'string', required: true }, disk_format: { type: 'string', required: true } },
};
