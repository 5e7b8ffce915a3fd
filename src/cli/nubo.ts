#!/usr/bin/env node
import { Command } from 'commander';
import { ClientError } from '../client/errors.ts';
import { addGlobalOptions, commandWord } from './globals.ts';

type Module = { register(group: Command): void };

/** The command groups, each in its own module, loaded only when its word is on the command line. */
const groups: Record<string, [description: string, load: () => Promise<Module>]> = {
  address: ['address scopes (address scope create|list|show|set|delete)', () => import('./commands/address-scope.ts')],
  aggregate: ['host aggregates (aggregate create|list|show|set|add host|remove host|delete)', () => import('./commands/aggregate.ts')],
  application: ['application credentials (application credential create|list|show|delete)', () => import('./commands/application-credential.ts')],
  availability: ['availability zones of compute, block storage and networking (availability zone list)', () => import('./commands/availability-zone.ts')],
  catalog: ['the service catalog of the current token', () => import('./commands/catalog.ts')],
  compute: ['compute services (compute service list|set)', () => import('./commands/compute-service.ts')],
  console: ["servers' console output and console URLs (console log show, console url show)", () => import('./commands/console.ts')],
  container: ['object storage containers (container create|list|show|delete)', () => import('./commands/container.ts')],
  credential: ['credentials kept by the identity service (cert, ec2, totp…)', () => import('./commands/credential.ts')],
  domain: ['identity domains', () => import('./commands/domain.ts')],
  ec2: ['EC2 credentials: access keys for S3 and EC2 clients (ec2 credentials create|list|show|delete)', () => import('./commands/ec2.ts')],
  endpoint: ['service endpoints', () => import('./commands/endpoint.ts')],
  flavor: ['flavors: the sizes servers come in', () => import('./commands/flavor.ts')],
  floating: ['floating IPs: public addresses for servers (floating ip create|list|show|set|unset|delete)', () => import('./commands/floating-ip.ts')],
  group: ['groups of users, and their members (group add|remove|contains user)', () => import('./commands/group.ts')],
  hypervisor: ['hypervisors and their totals (hypervisor list|show, hypervisor stats show)', () => import('./commands/hypervisor.ts')],
  image: ['images: create, upload, share and download', () => import('./commands/image.ts')],
  keypair: ['SSH key pairs for servers', () => import('./commands/keypair.ts')],
  limits: ['the compute limits and usage of the current project (limits show)', () => import('./commands/limits.ts')],
  loadbalancer: [
    'load balancers, their listeners, pools, members, health monitors and L7 policies (loadbalancer …, loadbalancer listener|pool|member|healthmonitor|l7policy|l7rule …)',
    () => import('./commands/loadbalancer.ts'),
  ],
  metric: [
    'metrics: resources, measures, archive policies and aggregates (metric resource|measures|archive-policy …, metric list|show|aggregates)',
    () => import('./commands/metric.ts'),
  ],
  network: ['networks', () => import('./commands/network.ts')],
  object: ['objects in object storage containers (object create|list|show|save|delete)', () => import('./commands/object.ts')],
  port: ['ports: places on networks for servers and routers', () => import('./commands/port.ts')],
  project: ['projects', () => import('./commands/project.ts')],
  quota: ['compute quotas of projects', () => import('./commands/quota.ts')],
  region: ['regions', () => import('./commands/region.ts')],
  role: ['roles, role grants and role assignments', () => import('./commands/role.ts')],
  router: ['routers: subnets, gateways and NAT', () => import('./commands/router.ts')],
  security: ['security groups and their rules (security group …, security group rule …)', () => import('./commands/security-group.ts')],
  server: ['servers: create, list, power, snapshot and delete', () => import('./commands/server.ts')],
  service: ['services of the catalog', () => import('./commands/service.ts')],
  stack: ['orchestration stacks: whole environments from one HOT template (stack create|list|show|delete)', () => import('./commands/stack.ts')],
  subnet: ['subnets: address ranges of networks', () => import('./commands/subnet.ts')],
  token: ['tokens', () => import('./commands/token.ts')],
  top: ["the project's busiest servers and ports, live in the terminal (top [--once] [-d SECONDS])", () => import('./commands/top.ts')],
  trust: ['trusts: delegation of roles on a project to another user (trust create|list|show|delete)', () => import('./commands/trust.ts')],
  usage: ['the compute usage of projects over a period (usage list|show)', () => import('./commands/usage.ts')],
  user: ['users', () => import('./commands/user.ts')],
  volume: ['volumes, their snapshots and types (volume …, volume snapshot …, volume type …)', () => import('./commands/volume.ts')],
};

const program = new Command('nubo')
  .description('Nubo: an OpenStack-compatible cloud, and its command-line client')
  .configureOutput({ outputError: (message, write) => write(`nubo: ${message.replace(/^error: /, '')}`) });
addGlobalOptions(program);

program
  .command('up')
  .description('run the all-in-one cloud (API, store and agents) in the foreground')
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--port <port>', 'port to listen on (default 8770)')
  .option('--public-url <url>', 'base URL clients use (default http://HOST:PORT)')
  .option('--data-dir <dir>', 'data directory (default ~/.local/share/nubo)')
  .option('--database <url>', 'postgres://… for a PostgreSQL server; default: embedded, under the data directory')
  .option('--region <name>', 'region name (default RegionOne)')
  .option('--token-ttl <seconds>', 'token lifetime (default 3600)')
  .option('--kdf-threads <n>', 'threads that hash passwords (default: half the cores)')
  .option('--kdf-queue <n>', 'password hashes that may wait for a thread; past that a login is answered 503 (default 32)')
  .option('--login-user-failures <n>', "failed logins of one user within the login window before the user's logins are refused (default 10)")
  .option('--login-address-attempts <n>', "unsuccessful logins from one address within the login window before the address's logins are refused (default 30)")
  .option('--login-window <seconds>', 'the window the login limits count over (default 60)')
  .option('--config <file>', 'YAML settings file (default DATA_DIR/nubo.yaml)')
  .option('--compute-driver <name>', 'qemu (default) runs real guests; fake keeps them in memory, for scale tests')
  .option('--compute-host <name>', "this machine's name for the compute scheduler (default: its host name)")
  .option('--vif-plugging-timeout <seconds>', 'how long a new server waits for its ports to be wired before it fails (default 300)')
  .option('--network-dataplane <name>', 'linux (default) wires real bridges, namespaces and firewall rules, as root; fake keeps them in memory')
  .option('--network-netns <name>', "a network namespace to stand for the host's own: bridges, taps and guests live in it")
  .option('--physical-networks <list>', 'physical networks and their host bridges: name:bridge[:address/prefix],… (default physnet1:br-ex:172.24.4.1/24)')
  .option(
    '--client-idle-timeout <seconds>',
    'how long a silent client is waited on: for its request head, the next bytes of an upload, a download to be read (default 60)',
  )
  .option('--storage <name>', 'local (default) keeps image data, volumes and instance disks in files; ceph keeps them in RBD')
  .option(
    '--compute-images-type <type>',
    "servers' root disks: local qcow2 overlays, or rbd clones of their images (default rbd with --storage ceph, else local)",
  )
  .option('--ceph-conf <file>', "the Ceph cluster's ceph.conf, when --storage ceph (default /etc/ceph/ceph.conf)")
  .option('--ceph-image-user <id>', 'cephx user of the image service (default nubo-image)')
  .option('--ceph-image-pool <pool>', 'RBD pool of image data (default images)')
  .option('--ceph-volume-user <id>', 'cephx user of the block-storage service (default nubo-volume)')
  .option('--ceph-volume-pool <pool>', 'RBD pool of volumes (default volumes)')
  .option('--ceph-compute-user <id>', 'cephx user of the compute service (default nubo-compute)')
  .option('--ceph-compute-pool <pool>', 'RBD pool of instance disks (default vms)')
  .option('--ceph-backup-user <id>', 'cephx user of volume backups (default nubo-backup)')
  .option('--ceph-backup-pool <pool>', 'RBD pool of volume backups (default backups)')
  .option('--show-image-direct-url <bool>', "show admins an image's direct_url and locations, as Glance's option of that name (default false)")
  .option(
    '--image-conversion-output-format <format>',
    "raw: qcow2 uploads to the rbd store are stored raw, so that disks and volumes from them are clones (Glance's image conversion)",
  )
  .option('--object-store-url <url>', "radosgw's base URL, put in the catalog as the object-store (Swift) and s3 services (scripts/ceph/radosgw.sh)")
  .option('--object-store-password-file <file>', 'the password of the Keystone user radosgw validates tokens as, made at start (user radosgw, role service)')
  .option('--no-agents', "run as a controller of a multi-host cloud: APIs and scheduler only, each host running 'nubo agent' (needs --database postgres://…)")
  .option('--report-interval <seconds>', "seconds between services' heartbeats (default 10)")
  .option('--service-down-time <seconds>', 'seconds without a heartbeat after which a service is down (default 60)')
  .option('--scheduler-weigher <mode>', 'spread (default): servers go to the emptiest host that fits; stack: to the fullest')
  .option('--vni-ranges <ranges>', 'VNIs of tenant vxlan networks: min:max[,min:max] (default 1:65535)')
  .option('--volume-export-address <address>', 'where volumes are served over NBD with TLS to guests on agent hosts (default: host_ip)')
  .action(async (opts) => (await import('./up.ts')).up(opts));

program
  .command('agent')
  .description("run this host's compute and network agents for a multi-host cloud's controllers, in the foreground")
  .option('--database <url>', "the controllers' PostgreSQL, as this host's role (nubo host-credential create): postgres://…")
  .option('--data-dir <dir>', 'data directory of this host: guests, image copies, config drives (default ~/.local/share/nubo)')
  .option('--config <file>', 'YAML settings file (default DATA_DIR/nubo.yaml)')
  .option('--compute-host <name>', "this host's name for the scheduler (default: its host name)")
  .option('--host-ip <address>', 'the address the controllers and other hosts reach this one at')
  .option('--tunnel-ip <address>', "this host's VXLAN tunnel address (default: --host-ip)")
  .option('--console-relay-address <address>', "where this host's console relay listens for the controllers (default: --host-ip)")
  .option('--network-host <name>', 'the host that serves DHCP and routers for every network (this one when it is the only host)')
  .option('--compute-driver <name>', 'qemu (default) runs real guests; fake keeps them in memory, for scale tests')
  .option('--image-data-dir <dir>', "the controllers' data directory, shared with this host, whose images/ servers' images are read from")
  .option('--network-dataplane <name>', 'linux (default) wires real bridges, namespaces and firewall rules, as root; fake keeps them in memory')
  .option('--network-netns <name>', "a network namespace to stand for the host's own: bridges, taps and guests live in it")
  .option('--physical-networks <list>', 'physical networks and their host bridges: name:bridge[:address/prefix],…')
  .option('--vif-plugging-timeout <seconds>', 'how long a new server waits for its ports to be wired before it fails (default 300)')
  .option('--report-interval <seconds>', "seconds between this host's heartbeats (default 10)")
  .action(async (opts) => (await import('./agent.ts')).agent(opts));

const hostCredential = program
  .command('host-credential')
  .description("the PostgreSQL roles 'nubo agent' hosts log in as, each confined to its own host's rows (run as the controllers' database owner)");
for (const [verb, description] of [
  ['create <host>', 'make the role of a host and print, once, the connection string its nubo agent takes as --database'],
  ['delete <host>', 'drop the role of a host, with its grants'],
  ['grant', "grant every host's role again what agents need (after an upgrade whose migration added a table)"],
]) {
  const command = hostCredential
    .command(verb!)
    .description(description!)
    .option('--database <url>', "the controllers' PostgreSQL, as a role that owns its tables and may create roles: postgres://…")
    .option('--config <file>', 'YAML settings file (default DATA_DIR/nubo.yaml)');
  if (verb === 'create <host>') command.option('--role <name>', 'the role name (default DATABASE_HOST)');
  command.action(async (...args: unknown[]) => {
    const cli = await import('./host-credential.ts');
    if (verb === 'grant') return cli.grantCredentials(args[0] as object);
    const [host, opts] = args as [string, object];
    return verb === 'create <host>' ? cli.createCredential(host, opts) : cli.deleteCredential(host, opts);
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let word = commandWord(args);
  if (word === 'help') word = commandWord(args.slice(args.indexOf('help') + 1));
  for (const [name, [description, load]] of Object.entries(groups)) {
    const group = program.command(name).description(description);
    if (name === word) (await load()).register(group);
  }
  await program.parseAsync();
  // A client command is done once it has printed; without this, fetch's idle keep-alive
  // connection keeps the process alive ~50 ms longer. (`nubo up` keeps running.)
  if (word && word in groups) process.exit();
}

main().catch((err: Error) => {
  // A bug's stack is for --debug; everything else is one line.
  const debug = process.argv.includes('--debug') && !(err instanceof ClientError);
  process.stderr.write(`nubo: ${debug ? err.stack : err.message}\n`);
  process.exit(1);
});
