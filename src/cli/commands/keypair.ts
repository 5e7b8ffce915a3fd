import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { Option, type Command } from 'commander';
import { ComputeClient, type Keypair } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { osError } from './compute-columns.ts';

/** `~/…` as Python's os.path.expanduser reads it. */
const expand = (path: string) => (path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path);

/** A key pair's fields as openstackclient shows them (openstacksdk's names, without the keys). */
const keypairFields = (k: Keypair, withPrivate: boolean): Record<string, unknown> => ({
  created_at: k.created_at ?? null,
  fingerprint: k.fingerprint,
  id: k.name,
  is_deleted: k.deleted ?? null,
  name: k.name,
  ...(withPrivate ? { private_key: k.private_key ?? null } : {}),
  type: k.type ?? 'ssh',
  user_id: k.user_id ?? null,
});

export function register(keypair: Command): void {
  showOptions(keypair.command('create').description('create a key pair: import a public key, or have one generated').argument('<name>', 'new key pair name'))
    .addOption(new Option('--public-key <file>', 'import the public key of this file (default: generate a key pair)'))
    .addOption(new Option('--private-key <file>', 'write the generated private key to this file (default: print it)').conflicts('publicKey'))
    .action(async (name: string, o: { publicKey?: string; privateKey?: string }, cmd: Command) => {
      let publicKey: string | undefined;
      if (o.publicKey) {
        try {
          publicKey = readFileSync(expand(o.publicKey), 'utf8');
        } catch (err) {
          throw new ClientError(`Key file ${o.publicKey} not found: ${osError(err, expand(o.publicKey))}`);
        }
      }
      // Opened before the key pair exists (openstackclient opens it after), so that a path that
      // cannot be written leaves no key pair whose private half is lost. Only its owner reads it.
      let fd: number | undefined;
      if (o.privateKey) {
        try {
          fd = openSync(expand(o.privateKey), 'w', 0o600);
        } catch (err) {
          throw new ClientError(`Key file ${o.privateKey} can not be saved: ${osError(err, expand(o.privateKey))}`);
        }
      }
      const { session } = await connect(cmd);
      let created: Keypair;
      try {
        created = await new ComputeClient(session).createKeypair(name, publicKey);
        if (fd !== undefined) writeSync(fd, created.private_key ?? '');
      } catch (err) {
        if (fd !== undefined) rmSync(expand(o.privateKey!), { force: true });
        throw err;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      if (publicKey !== undefined || fd !== undefined) return printShow(cmd, keypairFields(created, false));
      // As openstackclient: the generated private key on stdout, then an empty result.
      process.stdout.write(created.private_key ?? '');
      await printShow(cmd, {});
    });

  listOptions(keypair.command('list').description('list key pairs and their fingerprints')).action(async (_o, cmd: Command) => {
    const { session } = await connect(cmd);
    const compute = new ComputeClient(session);
    const [keypairs, typed] = await Promise.all([compute.keypairs(), compute.atLeast('2.2')]);
    // Key types came with 2.2.
    await printList(
      cmd,
      ['Name', 'Fingerprint', ...(typed ? ['Type'] : [])],
      keypairs.map((k) => [k.name, k.fingerprint, ...(typed ? [k.type] : [])]),
    );
  });

  showOptions(keypair.command('show').description('show a key pair').argument('<key>', 'key pair (name only)'))
    .option('--public-key', 'print only the public key')
    .action(async (name: string, o: { publicKey?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await new ComputeClient(session).findKeypair(name);
      if (!o.publicKey) return printShow(cmd, keypairFields(found, true));
      process.stdout.write(found.public_key);
      await printShow(cmd, {});
    });

  keypair
    .command('delete')
    .description('delete key pairs')
    .argument('<key...>', 'key pairs to delete (name only)')
    .action(async (names: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      await deleteCounted(
        names,
        'keys',
        (name) => `Failed to delete key with name '${name}'`,
        (name) => compute.deleteKeypair(name),
      );
    });
}
