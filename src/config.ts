import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface Config {
  host: string;
  port: number;
  /** Base URL clients reach the cloud at; every endpoint in the catalog is below it. */
  publicUrl: string;
  dataDir: string;
  /** `postgres://…`, `memory://`, or a directory for the embedded database. */
  database: string;
  region: string;
  /** Token lifetime, seconds. */
  tokenTtl: number;
  /** Password hashing runs on threads of its own, with at most `queue` hashes waiting for one. */
  kdf: { threads: number; queue: number };
  /** Failed logins allowed per user, and unsuccessful ones per source address, within `window` seconds. */
  loginLimits: { userFailures: number; addressAttempts: number; window: number };
  /** Keystone's [security_compliance] password rules, each off unless set (lockout, expiry,
   * history, a pattern, a change at first use). */
  securityCompliance: {
    lockoutFailureAttempts?: number;
    lockoutDuration?: number;
    passwordExpiresDays?: number;
    uniqueLastPasswordCount: number;
    passwordRegex?: string;
    passwordRegexDescription?: string;
    changePasswordUponFirstUse: boolean;
  };
  /** The admin's password on the first start only; a random one otherwise. */
  adminPassword?: string;
  /** What each project may hold in the image service. */
  imageQuota: { images: number; bytes: number };
  /** Disk formats whose uploads are not checked against the declared format (for images the
   * inspector misjudges); data that is never acceptable is refused all the same. */
  imageFormatCheckSkip: string[];
  /** URL prefixes the web-download import method may fetch images from; none: the method is off. */
  imageWebDownloadAllow: string[];
  /** A directory of metadata definition files in Glance's JSON form (Debian's glance-common puts
   * them in /etc/glance/metadefs) loaded at the first start instead of Nubo's own catalogue. */
  imageMetadefsDir?: string;
  /** The hypervisor driver: qemu runs real guests; fake keeps them in memory, for scale tests. */
  computeDriver: 'qemu' | 'fake';
  /** This machine's name as the compute scheduler knows it. */
  computeHost: string;
  /** How long a new server waits for the network to wire its ports before it fails (Nova's
   * vif_plugging_timeout), seconds. */
  vifPluggingTimeout: number;
  /** How long a console URL's token may wait for its connection (Nova's token_ttl), seconds. */
  consoleTokenTtl: number;
  /** Seconds a deleted server stays SOFT_DELETED, restorable, before it is reclaimed (Nova's
   * reclaim_instance_interval); 0 deletes at once. */
  reclaimInstanceInterval: number;
  /** Seconds a shelved server keeps its host before it is offloaded (Nova's shelved_offload_time):
   * 0 at once, -1 never (until shelveOffload). */
  shelvedOffloadTime: number;
  /** Seconds a resized server waits in VERIFY_RESIZE before it is confirmed for its user (Nova's
   * resize_confirm_window); 0 never. */
  resizeConfirmWindow: number;
  /** Seconds between two polls of each host's guests by the telemetry collector (Ceilometer's
   * polling interval). */
  telemetryInterval: number;
  /** Seconds between two evaluations of each alarm by the controller (Aodh's evaluation_interval). */
  alarmEvaluationInterval: number;
  /** The network data plane: linux wires real bridges, namespaces and firewall rules (as root);
   * fake keeps them in memory, for API and scale tests. */
  networkDataplane: 'linux' | 'fake';
  /** A named network namespace that stands for the host: bridges, taps and guests live in it.
   * Unset: the host's own namespace. */
  networkNetns?: string;
  /** Physical networks and the host bridges they are, with the host's address on each:
   * `physnet1:br-ex:172.24.4.1/24`, comma-separated. */
  physicalNetworks: { name: string; bridge: string; address?: string }[];
  /** How long the API waits on a silent client, seconds: for its whole request head, for the
   * next bytes of an upload, for a download to be read on. */
  clientIdleTimeout: number;
  /** Where image data, volumes and instance disks live: local files, or RBD on a Ceph cluster. */
  storage: 'local' | 'ceph';
  /** Nova's images_type: servers' root disks as local qcow2 overlays, or as RBD clones of their
   * images in the compute pool (the default with storage ceph). */
  computeImagesType: 'local' | 'rbd';
  /** The Ceph cluster's ceph.conf (its monitors, and through `keyring` each user's key). Nubo never
   * starts Ceph; scripts/ceph/up.sh makes one for development. */
  cephConf: string;
  /** The cephx user and the pool of each service, as OpenStack deployments split them. */
  ceph: Record<'image' | 'volume' | 'compute' | 'backup', CephClient>;
  /** Glance's show_image_direct_url: admins see an image's `direct_url` and `locations`
   * (rbd://fsid/pool/image/snap). */
  imageShowDirectUrl: boolean;
  /** Glance's [image_conversion] output_format: qcow2 uploads to the rbd store are kept raw, so
   * that disks and volumes from them are clones. Unset: images are kept as uploaded. */
  imageConversionOutputFormat?: 'raw';
  /** Whether `nubo up` runs this host's compute and network agents (the all-in-one) or not (a
   * controller of a multi-host cloud, whose hosts each run `nubo agent`). */
  agents: boolean;
  /** Seconds between services' heartbeats (Nova's report_interval). */
  reportInterval: number;
  /** Seconds without a heartbeat after which a service is down (Nova's service_down_time). */
  serviceDownTime: number;
  /** How the scheduler orders the hosts a server fits on: spread (the emptiest first) or stack (the fullest). */
  schedulerWeigher: 'spread' | 'stack';
  /** The address the controllers reach this host at, and the one its VXLAN tunnels end at (`nubo agent`). */
  hostIp?: string;
  tunnelIp?: string;
  /** Where this host's console relay listens, for the controllers' console proxy (default hostIp). */
  consoleRelayAddress?: string;
  /** Where the volume service serves volumes over NBD to guests on other hosts (default hostIp). */
  volumeExportAddress?: string;
  /** The host that serves every network's DHCP and every router (Neutron's network node): unset,
   * the all-in-one, or the only agent host. */
  networkHost?: string;
  /** The VNIs tenant vxlan networks get, lowest free first (ML2's vni_ranges): 1:65535. */
  vniRanges: [number, number][];
  /** `nubo agent` with the local image store: the controllers' data directory, shared with this
   * host (NFS, or the same machine), whose images/ it reads servers' images from. */
  imageDataDir?: string;
  /** radosgw's base URL (scripts/ceph/radosgw.sh writes it): the catalog's object-store (Swift)
   * and s3 services point at it. Unset: the catalog has no object storage. */
  objectStoreUrl?: string;
  /** The password of the Keystone user `radosgw` validates tokens as, read from
   * object_store_password_file (the file radosgw reads too); the user is made at start. */
  objectStorePassword?: string;
}

export interface CephClient {
  /** The cephx id, without `client.` (`rbd --id`). */
  user: string;
  pool: string;
}

type SecurityKey =
  | 'lockoutFailureAttempts'
  | 'lockoutDuration'
  | 'passwordExpiresDays'
  | 'uniqueLastPasswordCount'
  | 'passwordRegex'
  | 'passwordRegexDescription'
  | 'changePasswordUponFirstUse';

type CephKey =
  | 'storage'
  | 'computeImagesType'
  | 'cephConf'
  | 'cephImageUser'
  | 'cephImagePool'
  | 'cephVolumeUser'
  | 'cephVolumePool'
  | 'cephComputeUser'
  | 'cephComputePool'
  | 'cephBackupUser'
  | 'cephBackupPool'
  | 'showImageDirectUrl'
  | 'imageConversionOutputFormat'
  | 'objectStoreUrl'
  | 'objectStorePasswordFile';

type MultiHostKey =
  | 'agents'
  | 'reportInterval'
  | 'serviceDownTime'
  | 'schedulerWeigher'
  | 'hostIp'
  | 'tunnelIp'
  | 'consoleRelayAddress'
  | 'volumeExportAddress'
  | 'imageDataDir'
  | 'networkHost'
  | 'vniRanges';

/** Settings as given on the command line (undefined = not given). */
export type Flags = Partial<
  Record<'host' | 'port' | 'publicUrl' | 'dataDir' | 'database' | 'region' | 'tokenTtl' | 'config' | 'imageQuotaImages' | 'imageQuotaBytes' | 'imageFormatCheckSkip' | 'imageWebDownloadAllow' | 'imageMetadefsDir' | 'computeDriver' | 'computeHost' | 'vifPluggingTimeout' | 'consoleTokenTtl' | 'reclaimInstanceInterval' | 'shelvedOffloadTime' | 'resizeConfirmWindow' | 'telemetryInterval' | 'alarmEvaluationInterval' | 'networkDataplane' | 'networkNetns' | 'physicalNetworks' | 'kdfThreads' | 'kdfQueue' | 'loginUserFailures' | 'loginAddressAttempts' | 'loginWindow' | 'clientIdleTimeout' | SecurityKey | CephKey | MultiHostKey, string>
>;

const fileKeys: Record<string, keyof Flags> = {
  host: 'host',
  port: 'port',
  public_url: 'publicUrl',
  data_dir: 'dataDir',
  database: 'database',
  region: 'region',
  token_ttl: 'tokenTtl',
  kdf_threads: 'kdfThreads',
  kdf_queue: 'kdfQueue',
  login_user_failures: 'loginUserFailures',
  login_address_attempts: 'loginAddressAttempts',
  login_window: 'loginWindow',
  // Keystone's [security_compliance] names.
  lockout_failure_attempts: 'lockoutFailureAttempts',
  lockout_duration: 'lockoutDuration',
  password_expires_days: 'passwordExpiresDays',
  unique_last_password_count: 'uniqueLastPasswordCount',
  password_regex: 'passwordRegex',
  password_regex_description: 'passwordRegexDescription',
  change_password_upon_first_use: 'changePasswordUponFirstUse',
  image_quota_images: 'imageQuotaImages',
  image_quota_bytes: 'imageQuotaBytes',
  image_format_check_skip: 'imageFormatCheckSkip',
  image_web_download_allow: 'imageWebDownloadAllow',
  image_metadefs_dir: 'imageMetadefsDir',
  compute_driver: 'computeDriver',
  compute_host: 'computeHost',
  vif_plugging_timeout: 'vifPluggingTimeout',
  console_token_ttl: 'consoleTokenTtl',
  reclaim_instance_interval: 'reclaimInstanceInterval',
  shelved_offload_time: 'shelvedOffloadTime',
  resize_confirm_window: 'resizeConfirmWindow',
  telemetry_interval: 'telemetryInterval',
  alarm_evaluation_interval: 'alarmEvaluationInterval',
  network_dataplane: 'networkDataplane',
  network_netns: 'networkNetns',
  physical_networks: 'physicalNetworks',
  client_idle_timeout: 'clientIdleTimeout',
  storage: 'storage',
  compute_images_type: 'computeImagesType',
  ceph_conf: 'cephConf',
  ceph_image_user: 'cephImageUser',
  ceph_image_pool: 'cephImagePool',
  ceph_volume_user: 'cephVolumeUser',
  ceph_volume_pool: 'cephVolumePool',
  ceph_compute_user: 'cephComputeUser',
  ceph_compute_pool: 'cephComputePool',
  ceph_backup_user: 'cephBackupUser',
  ceph_backup_pool: 'cephBackupPool',
  show_image_direct_url: 'showImageDirectUrl',
  image_conversion_output_format: 'imageConversionOutputFormat',
  object_store_url: 'objectStoreUrl',
  object_store_password_file: 'objectStorePasswordFile',
  agents: 'agents',
  report_interval: 'reportInterval',
  service_down_time: 'serviceDownTime',
  scheduler_weigher: 'schedulerWeigher',
  host_ip: 'hostIp',
  tunnel_ip: 'tunnelIp',
  console_relay_address: 'consoleRelayAddress',
  volume_export_address: 'volumeExportAddress',
  network_host: 'networkHost',
  vni_ranges: 'vniRanges',
  image_data_dir: 'imageDataDir',
};

const envKeys: Record<string, keyof Flags> = {
  NUBO_HOST: 'host',
  NUBO_PORT: 'port',
  NUBO_PUBLIC_URL: 'publicUrl',
  NUBO_DATA_DIR: 'dataDir',
  NUBO_DATABASE: 'database',
  NUBO_REGION: 'region',
  NUBO_TOKEN_TTL: 'tokenTtl',
  NUBO_KDF_THREADS: 'kdfThreads',
  NUBO_KDF_QUEUE: 'kdfQueue',
  NUBO_LOGIN_USER_FAILURES: 'loginUserFailures',
  NUBO_LOGIN_ADDRESS_ATTEMPTS: 'loginAddressAttempts',
  NUBO_LOGIN_WINDOW: 'loginWindow',
  NUBO_LOCKOUT_FAILURE_ATTEMPTS: 'lockoutFailureAttempts',
  NUBO_LOCKOUT_DURATION: 'lockoutDuration',
  NUBO_PASSWORD_EXPIRES_DAYS: 'passwordExpiresDays',
  NUBO_UNIQUE_LAST_PASSWORD_COUNT: 'uniqueLastPasswordCount',
  NUBO_PASSWORD_REGEX: 'passwordRegex',
  NUBO_PASSWORD_REGEX_DESCRIPTION: 'passwordRegexDescription',
  NUBO_CHANGE_PASSWORD_UPON_FIRST_USE: 'changePasswordUponFirstUse',
  NUBO_CONFIG: 'config',
  NUBO_IMAGE_QUOTA_IMAGES: 'imageQuotaImages',
  NUBO_IMAGE_QUOTA_BYTES: 'imageQuotaBytes',
  NUBO_IMAGE_FORMAT_CHECK_SKIP: 'imageFormatCheckSkip',
  NUBO_IMAGE_WEB_DOWNLOAD_ALLOW: 'imageWebDownloadAllow',
  NUBO_IMAGE_METADEFS_DIR: 'imageMetadefsDir',
  NUBO_COMPUTE_DRIVER: 'computeDriver',
  NUBO_COMPUTE_HOST: 'computeHost',
  NUBO_VIF_PLUGGING_TIMEOUT: 'vifPluggingTimeout',
  NUBO_CONSOLE_TOKEN_TTL: 'consoleTokenTtl',
  NUBO_RECLAIM_INSTANCE_INTERVAL: 'reclaimInstanceInterval',
  NUBO_SHELVED_OFFLOAD_TIME: 'shelvedOffloadTime',
  NUBO_RESIZE_CONFIRM_WINDOW: 'resizeConfirmWindow',
  NUBO_TELEMETRY_INTERVAL: 'telemetryInterval',
  NUBO_ALARM_EVALUATION_INTERVAL: 'alarmEvaluationInterval',
  NUBO_NETWORK_DATAPLANE: 'networkDataplane',
  NUBO_NETWORK_NETNS: 'networkNetns',
  NUBO_PHYSICAL_NETWORKS: 'physicalNetworks',
  NUBO_CLIENT_IDLE_TIMEOUT: 'clientIdleTimeout',
  NUBO_STORAGE: 'storage',
  NUBO_COMPUTE_IMAGES_TYPE: 'computeImagesType',
  NUBO_CEPH_CONF: 'cephConf',
  NUBO_CEPH_IMAGE_USER: 'cephImageUser',
  NUBO_CEPH_IMAGE_POOL: 'cephImagePool',
  NUBO_CEPH_VOLUME_USER: 'cephVolumeUser',
  NUBO_CEPH_VOLUME_POOL: 'cephVolumePool',
  NUBO_CEPH_COMPUTE_USER: 'cephComputeUser',
  NUBO_CEPH_COMPUTE_POOL: 'cephComputePool',
  NUBO_CEPH_BACKUP_USER: 'cephBackupUser',
  NUBO_CEPH_BACKUP_POOL: 'cephBackupPool',
  NUBO_SHOW_IMAGE_DIRECT_URL: 'showImageDirectUrl',
  NUBO_IMAGE_CONVERSION_OUTPUT_FORMAT: 'imageConversionOutputFormat',
  NUBO_OBJECT_STORE_URL: 'objectStoreUrl',
  NUBO_OBJECT_STORE_PASSWORD_FILE: 'objectStorePasswordFile',
  NUBO_AGENTS: 'agents',
  NUBO_REPORT_INTERVAL: 'reportInterval',
  NUBO_SERVICE_DOWN_TIME: 'serviceDownTime',
  NUBO_SCHEDULER_WEIGHER: 'schedulerWeigher',
  NUBO_HOST_IP: 'hostIp',
  NUBO_TUNNEL_IP: 'tunnelIp',
  NUBO_CONSOLE_RELAY_ADDRESS: 'consoleRelayAddress',
  NUBO_VOLUME_EXPORT_ADDRESS: 'volumeExportAddress',
  NUBO_NETWORK_HOST: 'networkHost',
  NUBO_VNI_RANGES: 'vniRanges',
  NUBO_IMAGE_DATA_DIR: 'imageDataDir',
};

const defaultDataDir = () => join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'nubo');

function readFile(path: string): Flags {
  const doc = parse(readFileSync(path, 'utf8')) ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: expected a mapping of settings`);
  const out: Flags = {};
  for (const [key, value] of Object.entries(doc)) {
    const name = fileKeys[key];
    if (!name) throw new Error(`${path}: unknown setting "${key}" (known: ${Object.keys(fileKeys).join(', ')})`);
    out[name] = String(value);
  }
  return out;
}

const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31) throw new Error(`${name} must be a whole number, not "${text}"`);
  return n;
};

const atLeastOne = (name: string, text: string) => {
  const n = positive(name, text);
  if (n < 1) throw new Error(`${name} must be 1 or more, not "${text}"`);
  return n;
};

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A byte count, with an optional binary suffix: 500M, 20G, 1T. */
const bytes = (name: string, text: string) => {
  const m = /^(\d+)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be a number of bytes such as 500M or 20G, not "${text}"`);
  return n;
};

/**
 * Settings from, weakest first: defaults, the config file (--config, NUBO_CONFIG, or nubo.yaml
 * in the data directory), NUBO_* environment variables, command-line flags.
 */
export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): Config {
  const fromEnv: Flags = {};
  for (const [key, name] of Object.entries(envKeys)) if (env[key] !== undefined && env[key] !== '') fromEnv[name] = env[key];
  const early = { ...fromEnv, ...defined(flags) };
  const configPath = early.config ?? join(early.dataDir ?? defaultDataDir(), 'nubo.yaml');
  if (early.config && !existsSync(configPath)) throw new Error(`config file ${configPath} does not exist`);
  const merged = { ...(existsSync(configPath) ? readFile(configPath) : {}), ...early };
  const host = merged.host ?? '127.0.0.1';
  const port = positive('port', merged.port ?? '8770');
  const dataDir = resolve(merged.dataDir ?? defaultDataDir());
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    publicUrl: (merged.publicUrl ?? `http://${shownHost}:${port}`).replace(/\/+$/, ''),
    dataDir,
    database: merged.database ?? join(dataDir, 'db'),
    region: merged.region ?? 'RegionOne',
    tokenTtl: positive('token TTL', merged.tokenTtl ?? '3600'),
    // Half the cores hash at most, so that the event loop and I/O keep the rest.
    kdf: {
      threads: atLeastOne('kdf_threads', merged.kdfThreads ?? String(Math.max(1, Math.floor(availableParallelism() / 2)))),
      queue: positive('kdf_queue', merged.kdfQueue ?? '32'),
    },
    loginLimits: {
      userFailures: atLeastOne('login_user_failures', merged.loginUserFailures ?? '10'),
      addressAttempts: atLeastOne('login_address_attempts', merged.loginAddressAttempts ?? '30'),
      window: atLeastOne('login_window', merged.loginWindow ?? '60'),
    },
    securityCompliance: {
      lockoutFailureAttempts: optional(merged.lockoutFailureAttempts, (t) => atLeastOne('lockout_failure_attempts', t)),
      lockoutDuration: optional(merged.lockoutDuration, (t) => atLeastOne('lockout_duration', t)),
      passwordExpiresDays: optional(merged.passwordExpiresDays, (t) => atLeastOne('password_expires_days', t)),
      uniqueLastPasswordCount: positive('unique_last_password_count', merged.uniqueLastPasswordCount ?? '0'),
      passwordRegex: optional(merged.passwordRegex, (t) => regex('password_regex', t)),
      passwordRegexDescription: merged.passwordRegexDescription || undefined,
      changePasswordUponFirstUse: oneOf('change_password_upon_first_use', merged.changePasswordUponFirstUse ?? 'false', ['true', 'false'] as const) === 'true',
    },
    adminPassword: env.NUBO_ADMIN_PASSWORD || undefined,
    imageQuota: {
      images: positive('image_quota_images', merged.imageQuotaImages ?? '1000'),
      bytes: bytes('image_quota_bytes', merged.imageQuotaBytes ?? '1T'),
    },
    imageFormatCheckSkip: list(merged.imageFormatCheckSkip),
    imageWebDownloadAllow: list(merged.imageWebDownloadAllow).map((prefix) => webPrefix('image_web_download_allow', prefix)),
    imageMetadefsDir: merged.imageMetadefsDir ? resolve(merged.imageMetadefsDir) : undefined,
    computeDriver: oneOf('compute_driver', merged.computeDriver ?? 'qemu', ['qemu', 'fake'] as const),
    computeHost: merged.computeHost ?? hostname(),
    vifPluggingTimeout: atLeastOne('vif_plugging_timeout', merged.vifPluggingTimeout ?? '300'),
    consoleTokenTtl: atLeastOne('console_token_ttl', merged.consoleTokenTtl ?? '600'),
    reclaimInstanceInterval: positive('reclaim_instance_interval', merged.reclaimInstanceInterval ?? '0'),
    shelvedOffloadTime: merged.shelvedOffloadTime === '-1' ? -1 : positive('shelved_offload_time (or -1)', merged.shelvedOffloadTime ?? '0'),
    resizeConfirmWindow: positive('resize_confirm_window', merged.resizeConfirmWindow ?? '0'),
    telemetryInterval: atLeastOne('telemetry_interval', merged.telemetryInterval ?? '30'),
    alarmEvaluationInterval: atLeastOne('alarm_evaluation_interval', merged.alarmEvaluationInterval ?? '60'),
    networkDataplane: oneOf('network_dataplane', merged.networkDataplane ?? 'linux', ['linux', 'fake'] as const),
    networkNetns: merged.networkNetns || undefined,
    // DevStack's public network: the host answers on 172.24.4.1 of br-ex.
    physicalNetworks: physicalNetworks(merged.physicalNetworks ?? 'physnet1:br-ex:172.24.4.1/24'),
    clientIdleTimeout: atLeastOne('client_idle_timeout', merged.clientIdleTimeout ?? '60'),
    storage: oneOf('storage', merged.storage ?? 'local', ['local', 'ceph'] as const),
    computeImagesType: oneOf('compute_images_type', merged.computeImagesType ?? (merged.storage === 'ceph' ? 'rbd' : 'local'), ['local', 'rbd'] as const),
    cephConf: resolve(merged.cephConf ?? '/etc/ceph/ceph.conf'),
    ceph: {
      image: cephClient('image', merged.cephImageUser ?? 'nubo-image', merged.cephImagePool ?? 'images'),
      volume: cephClient('volume', merged.cephVolumeUser ?? 'nubo-volume', merged.cephVolumePool ?? 'volumes'),
      compute: cephClient('compute', merged.cephComputeUser ?? 'nubo-compute', merged.cephComputePool ?? 'vms'),
      backup: cephClient('backup', merged.cephBackupUser ?? 'nubo-backup', merged.cephBackupPool ?? 'backups'),
    },
    imageShowDirectUrl: oneOf('show_image_direct_url', merged.showImageDirectUrl ?? 'false', ['true', 'false'] as const) === 'true',
    imageConversionOutputFormat: optional(merged.imageConversionOutputFormat, (t) => conversion(t, merged.storage)),
    objectStoreUrl: optional(merged.objectStoreUrl, (t) => webPrefix('object_store_url', t).replace(/\/+$/, '')),
    objectStorePassword: optional(merged.objectStorePasswordFile, (t) => secretFile('object_store_password_file', t)),
    agents: oneOf('agents', merged.agents ?? 'true', ['true', 'false'] as const) === 'true',
    ...liveness(merged.reportInterval ?? '10', merged.serviceDownTime ?? '60'),
    schedulerWeigher: oneOf('scheduler_weigher', merged.schedulerWeigher ?? 'spread', ['spread', 'stack'] as const),
    hostIp: optional(merged.hostIp, (t) => ipv4('host_ip', t)),
    tunnelIp: optional(merged.tunnelIp, (t) => ipv4('tunnel_ip', t)),
    consoleRelayAddress: optional(merged.consoleRelayAddress, (t) => ipv4('console_relay_address', t)),
    volumeExportAddress: optional(merged.volumeExportAddress ?? merged.hostIp, (t) => ipv4('volume_export_address', t)),
    networkHost: merged.networkHost || undefined,
    vniRanges: vniRanges(merged.vniRanges ?? '1:65535'),
    imageDataDir: merged.imageDataDir ? resolve(merged.imageDataDir) : undefined,
  };
}

/** `min:max[,min:max…]`, each within VXLAN's 24 bits. */
function vniRanges(text: string): [number, number][] {
  return text.split(',').map((range) => {
    const m = /^\s*(\d+):(\d+)\s*$/.exec(range);
    const [min, max] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!(min >= 1 && max >= min && max <= 2 ** 24 - 1)) throw new Error(`vni_ranges: expected min:max within 1:16777215, not "${range}"`);
    return [min, max];
  });
}

/** A service must get to beat more than once within the time that marks it down. */
function liveness(interval: string, downTime: string) {
  const reportInterval = atLeastOne('report_interval', interval);
  const serviceDownTime = atLeastOne('service_down_time', downTime);
  if (serviceDownTime <= reportInterval) throw new Error(`service_down_time (${serviceDownTime}) must be longer than report_interval (${reportInterval})`);
  return { reportInterval, serviceDownTime };
}

function ipv4(name: string, text: string): string {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) throw new Error(`${name} must be an IPv4 address, not "${text}"`);
  return text;
}

/** Only the rbd store converts: clones are what raw is for, and the file store has none. */
function conversion(text: string, storage: string | undefined): 'raw' {
  const format = oneOf('image_conversion_output_format', text, ['raw'] as const);
  if (storage !== 'ceph') throw new Error('image_conversion_output_format applies to the rbd image store: set storage to ceph');
  return format;
}

/** A comma-separated list; a YAML list arrives joined by commas. */
const list = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** An http(s) URL prefix that names at least its host, so that a prefix cannot match every host. */
function webPrefix(name: string, text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || !/^https?:$/.test(url.protocol) || !url.host) throw new Error(`${name}: expected http(s) URL prefixes such as https://images.example.org/, not "${text}"`);
  return text;
}

/** A secret kept in a file of its own (as radosgw reads it), without its trailing newline. */
function secretFile(name: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(`${name}: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!text) throw new Error(`${name}: ${path} is empty`);
  return text;
}

const optional = <T>(text: string | undefined, parse: (text: string) => T) => (text ? parse(text) : undefined);

function regex(name: string, text: string): string {
  try {
    new RegExp(text, 'u');
  } catch (err) {
    throw new Error(`${name} is not a regular expression: ${(err as Error).message}`);
  }
  return text;
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) throw new Error(`${name} must be one of ${allowed.join(', ')}, not "${text}"`);
  return text as T;
}

/** A cephx id and a pool name go into argv and qemu's `rbd:` strings, where `:`, `@` and `/` would
 * split them. */
function cephClient(service: string, user: string, pool: string): CephClient {
  const name = /^[\w.-]+$/;
  if (!name.test(user.replace(/^client\./, ''))) throw new Error(`ceph_${service}_user must be a cephx id such as nubo-${service}, not "${user}"`);
  if (!name.test(pool)) throw new Error(`ceph_${service}_pool must be a pool name, not "${pool}"`);
  return { user: user.replace(/^client\./, ''), pool };
}

function physicalNetworks(text: string): Config['physicalNetworks'] {
  return text
    .split(',')
    .filter((entry) => entry.trim())
    .map((entry) => {
      const m = /^([\w.-]+):([\w.-]{1,15})(?::(\d+\.\d+\.\d+\.\d+\/\d+))?$/.exec(entry.trim());
      if (!m) throw new Error(`physical_networks: expected name:bridge[:address/prefix], not "${entry}"`);
      return { name: m[1]!, bridge: m[2]!, address: m[3] };
    });
}


const defined = (flags: Flags): Flags => Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
