import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { untarTemplate } from './pglite-untar.ts';

/** Creates the database with initdb and applies the migrations; plain JavaScript, so that the
 * child needs no module loader of the parent's (tsx). Its one argument names the modules and the
 * directory. */
const PREPARE = `
const { dir, startParams, migrationsFolder, modules } = JSON.parse(process.argv[1]);
// Stdin closes when the parent is gone: a database nobody waits for is not worth finishing.
process.stdin.on('end', () => process.exit(1)).resume();
const { PGlite } = await import(modules.pglite);
const { drizzle } = await import(modules.drizzle);
const { migrate } = await import(modules.migrator);
const client = await PGlite.create(dir, { startParams });
await migrate(drizzle(client), { migrationsFolder });
await client.close();
process.exit(0);`;

/**
 * Makes a new embedded database in dir, migrated: the build's template unpacked when it matches
 * the migrations, else made in a process of its own. initdb and the first
 * migrations take about 600 MB of WebAssembly memory and the allocator's arenas of the threads
 * that ran them; a WebAssembly memory never shrinks, and a worker thread's arenas stay with the
 * process, but a child's all go back to the system when it exits, so that the cloud's own process
 * starts from a ready database as after a restart. It is built in a directory inside dir and moved
 * up, PG_VERSION last: a start interrupted meanwhile leaves no half-made database that a later
 * one would take as ready. An existing database is left alone.
 */
export async function initPgliteDir(dir: string, startParams: string[], migrationsFolder: string, template: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const building = join(dir, '.creating');
  rmSync(building, { recursive: true, force: true });
  if (readdirSync(dir).length) throw new Error(`the database directory ${dir} holds files but no database; empty it, or name another directory`);
  if (existsSync(template)) {
    // The build's template is a ready database: unpacked here it needs neither a child nor PGlite.
    try {
      mkdirSync(building, { mode: 0o700 });
      untarTemplate(template, building);
    } catch (err) {
      rmSync(building, { recursive: true, force: true });
      throw err;
    }
    return moveUp(building, dir);
  }
  const modules = {
    pglite: import.meta.resolve('@electric-sql/pglite'),
    drizzle: import.meta.resolve('drizzle-orm/pglite'),
    migrator: import.meta.resolve('drizzle-orm/pglite/migrator'),
  };
  const argv = ['--input-type=module', '-e', PREPARE, JSON.stringify({ dir: building, startParams, migrationsFolder, modules })];
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    rmSync(building, { recursive: true, force: true });
    throw new Error(`creating the database in ${dir} failed: ${stderr.trim() || `exit code ${code}`}`);
  }
  moveUp(building, dir);
}

/** Moves a database made in building into dir. PG_VERSION is what marks the directory as a
 * database: it goes last. */
function moveUp(building: string, dir: string): void {
  const names = readdirSync(building).sort((a, b) => Number(a === 'PG_VERSION') - Number(b === 'PG_VERSION'));
  for (const name of names) renameSync(join(building, name), join(dir, name));
  rmdirSync(building);
}
