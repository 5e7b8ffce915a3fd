import type { Command } from 'commander';
import { OPTION_KEYS, envName, type OptionKey, type Options } from '../client/config.ts';

const HELP: Record<OptionKey, string> = {
  cloud: 'cloud name in clouds.yaml',
  auth_url: 'authentication URL',
  auth_type: 'password (default), token or v3applicationcredential',
  username: 'user name',
  user_id: 'user ID',
  password: "user's password",
  user_domain_name: 'domain name of the user',
  user_domain_id: 'domain ID of the user',
  project_name: 'project name to scope to',
  project_id: 'project ID to scope to',
  project_domain_name: 'domain name of the project',
  project_domain_id: 'domain ID of the project',
  domain_name: 'domain name to scope to',
  domain_id: 'domain ID to scope to',
  default_domain: 'domain ID for the user and project when none is given (default: default)',
  token: 'an existing token to authenticate with',
  application_credential_id: 'application credential ID',
  application_credential_name: 'application credential name',
  application_credential_secret: 'application credential secret',
  region_name: 'region of the endpoints to use',
  interface: 'endpoint interface: public (default), internal or admin',
  identity_api_version: 'identity API version (only 3 exists; accepted for compatibility)',
  compute_api_version: 'compute API microversion, e.g. 2.79 (default: the highest both nubo and the cloud implement)',
};

const flagName = (key: OptionKey) => `os-${key.replaceAll('_', '-')}`;
const attribute = (key: OptionKey) => flagName(key).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** The --os-* options of the openstack CLI, and --debug. */
export function addGlobalOptions(program: Command): void {
  for (const key of OPTION_KEYS) program.option(`--${flagName(key)} <${key.endsWith('url') ? 'url' : 'value'}>`, `${HELP[key]} (env: ${envName(key)})`);
  program.option('--debug', 'print each request and response on stderr');
}

/** The --os-* options given on the command line, by their clouds.yaml names. */
export function globalFlags(cmd: Command): Options {
  const all = cmd.optsWithGlobals() as Record<string, string | undefined>;
  return Object.fromEntries(OPTION_KEYS.map((key) => [key, all[attribute(key)]]).filter(([, v]) => v !== undefined));
}

const BOOLEAN = new Set(['--debug', '-h', '--help', '-V', '--version']);

/** The first word of the command (`project` in `nubo --os-cloud x project list`), found before
 * parsing so that only that command's module is loaded. */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1];
    if (!arg.startsWith('-')) return arg;
    if (!BOOLEAN.has(arg) && !arg.includes('=') && arg.startsWith('--os-')) i++;
  }
  return undefined;
}
