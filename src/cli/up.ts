import { loadConfig, type Flags } from '../config.ts';
import { startCloud } from '../main.ts';

/** `nubo up`: runs the all-in-one cloud in the foreground until SIGINT/SIGTERM. */
export async function up(flags: Omit<Flags, 'agents'> & { agents?: boolean }): Promise<void> {
  // commander's --no-agents is a boolean that defaults to true: only its `false` is a setting.
  const config = loadConfig({ ...flags, agents: flags.agents === false ? 'false' : undefined });
  // Hosts reach a controller's store from their own machines: only a database server lets them.
  if (!config.agents && !/^postgres(ql)?:\/\//.test(config.database)) throw new Error('a controller without agents needs a PostgreSQL database its hosts share: --database postgres://…');
  const cloud = await startCloud(config);
  // One write, so that whoever watches the output sees the whole banner at once.
  const lines = [`\nNubo is up at ${config.publicUrl}  (data: ${config.dataDir}, database: ${cloud.store.kind})`];
  if (cloud.credentials && cloud.files) {
    lines.push(
      `  admin user:     ${cloud.credentials.username}`,
      // A new password is shown once; after that it is in the credentials file alone (0600).
      cloud.bootstrapped ? `  admin password: ${cloud.credentials.password}` : `  admin password: in ${cloud.files.credentials}`,
      `  openrc:         source ${cloud.files.openrc}`,
      `  clouds.yaml:    ${cloud.files.cloudsYaml}  (export OS_CLIENT_CONFIG_FILE=${cloud.files.cloudsYaml}; --os-cloud nubo)`,
    );
  } else {
    lines.push('  the admin password is not known to this data directory (the cloud was bootstrapped elsewhere)');
  }
  process.stdout.write(lines.join('\n') + '\n\n');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    cloud.log.info({ signal }, 'shutting down');
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
