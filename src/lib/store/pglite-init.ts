import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Opens the database once and closes it; plain JavaScript, evaluated, so that the worker needs
 * no module loader of the parent's (tsx). */
const INIT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module)
  .then(async ({ PGlite }) => (await PGlite.create(workerData.dir, { startParams: workerData.startParams })).close())
  .then(() => parentPort.postMessage('done'));`;

/**
 * Creates a new embedded database directory in a thread of its own. initdb holds about 600 MB of
 * WebAssembly memory that the process would otherwise keep until some later garbage collection;
 * a worker's memory goes back to the system when it exits. An existing database is left alone.
 */
export async function initPgliteDir(dir: string, startParams: string[]): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const module = import.meta.resolve('@electric-sql/pglite');
  const worker = new Worker(INIT, { eval: true, workerData: { module, dir, startParams }, execArgv: [] });
  let done = false;
  worker.once('message', () => {
    done = true;
    void worker.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => (done ? resolve() : reject(new Error(`initializing the database in ${dir} stopped before it was done`))));
  });
}
