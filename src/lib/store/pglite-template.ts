import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const migrationsFolder = join(root, 'migrations');

/**
 * Where the build keeps a new, migrated, empty embedded database as PGlite dumps one (a tar of
 * its data directory). A new database starts from it instead of running initdb and every
 * migration: about 1.5 s of CPU instead of 7, and none of initdb's 600 MB. Its name carries a
 * digest of the migrations and of PGlite's version, so that a checkout with a newer migration, or
 * another PGlite, never takes an older one and falls back to initdb until the next build.
 */
export function templatePath(): string {
  const hash = createHash('sha256');
  const pglite = join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
  hash.update(JSON.parse(readFileSync(pglite, 'utf8')).version as string);
  for (const name of readdirSync(migrationsFolder).filter((n) => n.endsWith('.sql')).sort()) {
    hash.update(name).update(readFileSync(join(migrationsFolder, name)));
  }
  return join(root, 'dist', `pglite-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** The template for these migrations, if the build made it. */
export async function readTemplate(): Promise<Blob | undefined> {
  const bytes = await readFile(templatePath()).catch(() => undefined);
  return bytes && new Blob([bytes]);
}

/** Writes the template (run by the build), whole or not at all; older ones go. */
export async function writeTemplate(startParams: string[]): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = await PGlite.create('memory://', { startParams });
  await migrate(drizzle(client), { migrationsFolder });
  // Uncompressed: unpacking gzip would cost more CPU at every start than the disk it saves.
  const dump = await client.dumpDataDir('none');
  await client.close();
  const target = templatePath();
  for (const old of readdirSync(dirname(target)).filter((n) => /^pglite-[0-9a-f]{16}\.tar$/.test(n))) rmSync(join(dirname(target), old));
  writeFileSync(`${target}.part`, Buffer.from(await dump.arrayBuffer()));
  renameSync(`${target}.part`, target);
  return target;
}
