import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface AdminCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string;
}

const file = (dataDir: string) => join(dataDir, 'credentials.json');

export function readCredentials(dataDir: string): Omit<AdminCredentials, 'authUrl' | 'regionName'> | undefined {
  return existsSync(file(dataDir)) ? JSON.parse(readFileSync(file(dataDir), 'utf8')) : undefined;
}

/** Writes text readable by its owner only; the mode is set outright, since a file that already
 * exists keeps its own. */
function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Writes the admin's credentials, an `openrc` to source and a `clouds.yaml` (cloud `nubo`),
 * readable by their owner only. */
export function writeCredentials(dataDir: string, c: AdminCredentials): { credentials: string; openrc: string; cloudsYaml: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { authUrl: _a, regionName: _r, ...kept } = c;
  writeSecret(file(dataDir), JSON.stringify(kept, null, 2) + '\n');
  const openrc = join(dataDir, 'openrc');
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeSecret(
    openrc,
    [
      `export OS_AUTH_URL=${quote(c.authUrl)}`,
      `export OS_AUTH_TYPE=password`,
      `export OS_IDENTITY_API_VERSION=3`,
      `export OS_USERNAME=${quote(c.username)}`,
      `export OS_PASSWORD=${quote(c.password)}`,
      `export OS_PROJECT_NAME=${quote(c.projectName)}`,
      `export OS_USER_DOMAIN_NAME=${quote(c.userDomainName)}`,
      `export OS_PROJECT_DOMAIN_NAME=${quote(c.projectDomainName)}`,
      `export OS_REGION_NAME=${quote(c.regionName)}`,
      '',
    ].join('\n'),
  );
  const cloudsYaml = join(dataDir, 'clouds.yaml');
  writeSecret(
    cloudsYaml,
    stringify({
      clouds: {
        nubo: {
          auth: {
            auth_url: c.authUrl,
            username: c.username,
            password: c.password,
            project_name: c.projectName,
            user_domain_name: c.userDomainName,
            project_domain_name: c.projectDomainName,
          },
          region_name: c.regionName,
          identity_api_version: 3,
        },
      },
    }),
  );
  return { credentials: file(dataDir), openrc, cloudsYaml };
}
