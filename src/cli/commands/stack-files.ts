import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ClientError } from '../../client/errors.ts';

// The files a stack request carries, read as python-heatclient reads them: each get_file and each
// resource type naming a template file, relative to the file that names it, is read, sent in the
// `files` map under its absolute file: URL, and the template (or environment) rewritten to name
// that URL. A nested template's own files follow it.

/** Names a template file rather than a type (OS::Nova::Server, My::Type). */
const isTemplateName = (v: string) => /\.(ya?ml|template|json)$/.test(v);

function read(url: string): string {
  if (!url.startsWith('file:')) throw new ClientError(`Only local files can be read: ${url}`);
  try {
    return readFileSync(fileURLToPath(url), 'utf8');
  } catch (err) {
    throw new ClientError(`Could not fetch contents for ${url}: ${(err as Error).message}`);
  }
}

function parse(text: string, what: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ClientError(`Error parsing template ${what}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The template at url, its get_file and template types read into files and rewritten to their URLs. */
function templateAt(url: string, files: Record<string, string>): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'get_file' && typeof x === 'string') {
        const at = new URL(x, url).href;
        files[at] ??= read(at);
        out[k] = at;
      } else if (k === 'type' && typeof x === 'string' && isTemplateName(x)) {
        const at = new URL(x, url).href;
        if (!(at in files)) files[at] = JSON.stringify(templateAt(at, files));
        out[k] = at;
      } else out[k] = walk(x);
    }
    return out;
  };
  return walk(parse(read(url), fileURLToPath(url)));
}

const urlOf = (file: string) => pathToFileURL(resolve(file)).href;

/** A template file and every file it names. */
export function templateFiles(file: string): { template: unknown; files: Record<string, string> } {
  const files: Record<string, string> = {};
  return { template: templateAt(urlOf(file), files), files };
}

type Environment = { parameters?: Record<string, unknown>; parameter_defaults?: Record<string, unknown>; resource_registry?: Record<string, unknown> };

/** Environment files merged in order (a later one's values win), their registry's template
 * files read into files under their URLs. */
export function environments(list: string[], files: Record<string, string>): Environment | undefined {
  if (!list.length) return undefined;
  const merged: Required<Environment> = { parameters: {}, parameter_defaults: {}, resource_registry: {} };
  for (const file of list) {
    const url = urlOf(file);
    const env = (parse(read(url), file) ?? {}) as Environment;
    if (typeof env !== 'object' || Array.isArray(env)) throw new ClientError(`The environment ${file} is not a map.`);
    for (const [name, target] of Object.entries(env.resource_registry ?? {})) {
      if (typeof target === 'string' && isTemplateName(target)) {
        const at = new URL(target, url).href;
        if (!(at in files)) files[at] = JSON.stringify(templateAt(at, files));
        merged.resource_registry[name] = at;
      } else merged.resource_registry[name] = target;
    }
    Object.assign(merged.parameters, env.parameters);
    Object.assign(merged.parameter_defaults, env.parameter_defaults);
  }
  return merged;
}
