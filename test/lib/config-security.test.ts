import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { tempDir } from '../helpers/cloud.ts';

test("Keystone's security_compliance options: off by default, read under Keystone's names", () => {
  assert.deepEqual(loadConfig({ dataDir: tempDir() }, {}).securityCompliance, {
    lockoutFailureAttempts: undefined,
    lockoutDuration: undefined,
    passwordExpiresDays: undefined,
    uniqueLastPasswordCount: 0,
    passwordRegex: undefined,
    passwordRegexDescription: undefined,
    changePasswordUponFirstUse: false,
  });
  const dir = tempDir();
  writeFileSync(
    join(dir, 'nubo.yaml'),
    "lockout_failure_attempts: 5\nlockout_duration: 1800\npassword_expires_days: 90\nunique_last_password_count: 3\npassword_regex: '^.{12,}$'\npassword_regex_description: at least 12 characters\nchange_password_upon_first_use: true\n",
  );
  assert.deepEqual(loadConfig({ dataDir: dir }, {}).securityCompliance, {
    lockoutFailureAttempts: 5,
    lockoutDuration: 1800,
    passwordExpiresDays: 90,
    uniqueLastPasswordCount: 3,
    passwordRegex: '^.{12,}$',
    passwordRegexDescription: 'at least 12 characters',
    changePasswordUponFirstUse: true,
  });
  assert.equal(loadConfig({ dataDir: dir }, { NUBO_LOCKOUT_FAILURE_ATTEMPTS: '2' }).securityCompliance.lockoutFailureAttempts, 2);
  assert.throws(() => loadConfig({ dataDir: tempDir() }, { NUBO_PASSWORD_REGEX: '^(' }), /password_regex is not a regular expression/);
  assert.throws(
    () => loadConfig({ dataDir: tempDir() }, { NUBO_CHANGE_PASSWORD_UPON_FIRST_USE: 'yes' }),
    /change_password_upon_first_use must be one of true, false/,
  );
});
