import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ClientError } from './errors.ts';

/** Where openstacksdk looks, in order: the current directory, the user's config directory, then
 * /etc/openstack; the file named by `override` (OS_CLIENT_CONFIG_FILE) comes first. */
export function searchPath(base: 'clouds' | 'secure', env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  const dirs = [cwd, join(configHome, 'openstack'), '/etc/openstack'];
  const override = base === 'clouds' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  return [...(override ? [override] : []), ...dirs.flatMap((dir) => ['yaml', 'yml', 'json'].map((ext) => join(dir, `${base}.${ext}`)))];
}

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(a: Mapping, b: Mapping): Mapping {
  const out: Mapping = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = isMapping(value) && isMapping(out[key]) ? merge(out[key] as Mapping, value) : value;
  return out;
}

/** The clouds of the first file that exists on the path, as openstacksdk reads only that one. */
async function readClouds(path: string[]): Promise<{ file?: string; clouds: Mapping }> {
  const file = path.find((f) => existsSync(f));
  if (!file) return { clouds: {} };
  // YAML is a superset of JSON, so one parser reads clouds.json too; loaded only when needed.
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ClientError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const clouds = isMapping(doc) ? doc.clouds : undefined;
  return { file, clouds: isMapping(clouds) ? clouds : {} };
}

/** The entry `name` of clouds.yaml, with its secrets from secure.yaml merged in. */
export async function readCloud(name: string, env: NodeJS.ProcessEnv, cwd?: string): Promise<Mapping> {
  const [clouds, secure] = await Promise.all([readClouds(searchPath('clouds', env, cwd)), readClouds(searchPath('secure', env, cwd))]);
  const entry = clouds.clouds[name];
  if (!isMapping(entry)) {
    const where = clouds.file ? ` in ${clouds.file}` : ' (no clouds.yaml found)';
    throw new ClientError(`Cloud ${name} was not found${where}.`);
  }
  const secret = secure.clouds[name];
  return isMapping(secret) ? merge(entry, secret) : entry;
}
