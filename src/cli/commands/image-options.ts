import { InvalidArgumentError, Option, type Command } from 'commander';
import { HttpError } from '../../client/errors.ts';
import type { IdentityClient } from '../../client/identity.ts';
import { findProject } from './project.ts';

/** openstackclient's choices, less ploop, whose bytes Nubo cannot check and so refuses. */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vmdk', 'raw', 'qcow2', 'vhdx', 'vdi', 'iso'];
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'docker', 'ova', 'ovf'];

/** `--property key=value`, repeatable, into one mapping. */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 0) throw new InvalidArgumentError(`Expected 'key=value' type, but got: ${value}`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** A whole number, as argparse's type=int reads it. */
export function integer(value: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw new InvalidArgumentError(`invalid int value: '${value}'`);
  return Number(value);
}

export interface VisibilityFlags {
  public?: boolean;
  private?: boolean;
  community?: boolean;
  shared?: boolean;
}

/** Flags of which one at most may be given, such as --public, --private, --community, --shared. */
export function oneOf(cmd: Command, help: Record<string, string>): Command {
  const names = Object.keys(help);
  for (const name of names) cmd.addOption(new Option(`--${name}`, help[name]).conflicts(names.filter((n) => n !== name)));
  return cmd;
}

export const visibilityOf = (o: VisibilityFlags) => (['public', 'private', 'community', 'shared'] as const).find((v) => o[v]);

/** --protected and --unprotected. */
export const protectedOptions = (cmd: Command) =>
  oneOf(cmd, { protected: 'prevent the image from being deleted', unprotected: 'allow the image to be deleted (default)' });

export const protectedOf = (o: { protected?: boolean; unprotected?: boolean }) => (o.protected ? true : o.unprotected ? false : undefined);

/** --project and --project-domain, for an image's owner or member. */
export const projectOptions = (cmd: Command, help: string) =>
  cmd
    .option('--project <project>', help)
    .option('--project-domain <project-domain>', 'domain the project belongs to (name or ID); for names that are in several domains');

// Keystone's IDs: 32 hex digits, or a UUID with dashes.
const ID_LIKE = /^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A project's ID, as openstackclient finds it for image sharing: a name is looked up; an ID is
 * taken as it is (`idLike`), and so is the input when identity will not say (403), since an
 * image's owner may share it without the right to read other projects.
 */
export async function projectId(identity: IdentityClient, ref: string, domain?: string, idLike = false): Promise<string> {
  if (idLike && ID_LIKE.test(ref)) return ref;
  try {
    return (await findProject(identity, ref, domain)).id;
  } catch (err) {
    if (err instanceof HttpError && err.status === 403) return ref;
    throw err;
  }
}
