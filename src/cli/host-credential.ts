import { loadConfig, type Flags } from '../config.ts';
import { openStore, type Store } from '../lib/store/db.ts';
import { createHostRole, defaultRoleName, deleteHostRole, grantHostRole } from '../lib/store/host-roles.ts';
import { hostRoles } from '../compute/tables.ts';

// `nubo host-credential`: an operator, connected to the controllers' PostgreSQL as the role that
// owns the tables (and may create roles), makes or drops the database role a `nubo agent` host
// logs in as (docs/multi-host.md).

type Options = Pick<Flags, 'database' | 'config' | 'dataDir'>;

async function withStore<T>(opts: Options, fn: (store: Store) => Promise<T>): Promise<T> {
  const { database } = loadConfig(opts);
  if (!/^postgres(ql)?:\/\//.test(database)) throw new Error("host credentials are roles of the controllers' PostgreSQL: --database postgres://…");
  const store = await openStore(database);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Prints, once, the connection string `nubo agent --database` takes on host. */
export async function createCredential(host: string, opts: Options & { role?: string }): Promise<void> {
  const url = await withStore(opts, async (store) => {
    const role = opts.role ?? (await defaultRoleName(store.db, host));
    const made = await store.tx((tx) => createHostRole(tx, host, role));
    const at = new URL(loadConfig(opts).database);
    at.username = encodeURIComponent(made.role);
    at.password = made.password;
    return at.toString();
  });
  process.stdout.write(`${url}\n`);
  process.stderr.write(`The password is shown this once: give it to host ${host}'s nubo agent as --database (or NUBO_DATABASE).\n`);
}

export async function deleteCredential(host: string, opts: Options): Promise<void> {
  const gone = await withStore(opts, (store) => store.tx((tx) => deleteHostRole(tx, host)));
  if (!gone) throw new Error(`host ${host} has no database role`);
}

/** Grants every host's role what agents need again: after an upgrade whose migration added a table they use. */
export async function grantCredentials(opts: Options): Promise<void> {
  await withStore(opts, (store) =>
    store.tx(async (tx) => {
      for (const { roleName } of await tx.select().from(hostRoles)) await grantHostRole(tx, roleName);
    }),
  );
}
