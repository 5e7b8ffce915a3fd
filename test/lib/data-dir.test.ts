import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCredentials } from '../../src/credentials.ts';
import { nubo, spawnNubo, tempDir } from '../helpers/cloud.ts';

// The data directory and the embedded database hold the token key, password hashes and the
// admin's credentials: whatever they were before `nubo up`, nobody else may read or write them.

/** What in the tree (symbolic links aside) group or others may use, with its mode. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) found.push(`${(st.mode & 0o7777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return found;
}

/** Opens the whole tree to everyone, as an older Nubo under umask 0000 would have left it. */
function openUp(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  chmodSync(path, st.isDirectory() ? 0o777 : 0o666);
  if (st.isDirectory()) for (const name of readdirSync(path)) openUp(join(path, name));
}

test('a data directory that exists open to others is closed, database and all; the password is shown on the first start only', async () => {
  const dataDir = tempDir();
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'nubo.yaml'), 'region: RegionOne\n');
  chmodSync(join(dataDir, 'nubo.yaml'), 0o644);
  try {
    const first = await spawnNubo({ dataDir });
    const password = readCredentials(dataDir)!.password;
    try {
      assert.deepEqual(openToOthers(dataDir), []);
      assert.ok(first.output().includes(password), 'the first start shows the new admin password');
    } finally {
      await first.stop();
    }

    openUp(dataDir);
    assert.ok(openToOthers(join(dataDir, 'db')).length > 900, 'the database files are open before the second start');
    const second = await spawnNubo({ dataDir });
    try {
      assert.deepEqual(openToOthers(dataDir), []);
      assert.ok(!second.output().includes(password), `a later start does not show the password:\n${second.output()}`);
      assert.match(second.output(), new RegExp(`admin password: in ${join(dataDir, 'credentials.json')}`));
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a database directory given with --database that exists open to others is closed', async () => {
  const dir = tempDir();
  const database = join(dir, 'database');
  mkdirSync(database, { mode: 0o755 });
  chmodSync(database, 0o755);
  try {
    const cloud = await spawnNubo({ dataDir: join(dir, 'data'), args: ['--database', database] });
    try {
      assert.ok(readdirSync(database).length > 0, 'the database is in the directory given');
      assert.deepEqual(openToOthers(database), []);
      assert.deepEqual(openToOthers(join(dir, 'data')), []);
    } finally {
      await cloud.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data or database directory of another user is refused, in one line, and left as it was', async () => {
  const dir = tempDir();
  const theirs = join(dir, 'theirs');
  mkdirSync(theirs);
  chmodSync(theirs, 0o755);
  chownSync(theirs, 65534, 65534);
  const env = { NUBO_NETWORK_DATAPLANE: 'fake', NUBO_COMPUTE_DRIVER: 'fake' };
  try {
    const asData = await nubo(env, 'up', '--port', '0', '--data-dir', theirs);
    assert.equal(asData.code, 1);
    assert.equal(
      asData.stderr.trim(),
      `nubo: the data directory ${theirs} belongs to uid 65534, not to the user running Nubo (uid 0); it holds secrets that only its owner may read. Run Nubo as its owner, or give it to this user (chown -R 0 ${theirs})`,
    );

    const asDatabase = await nubo(env, 'up', '--port', '0', '--data-dir', join(dir, 'data'), '--database', theirs);
    assert.equal(asDatabase.code, 1);
    assert.match(asDatabase.stderr, /^nubo: the database directory \S+ belongs to uid 65534, not to the user running Nubo \(uid 0\)/);
    assert.doesNotMatch(asDatabase.stderr, /\n\s+at /, 'no stack trace');

    assert.equal(statSync(theirs).mode & 0o777, 0o755);
    assert.deepEqual(readdirSync(theirs), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
