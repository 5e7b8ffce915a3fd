import { loadConfig, type Flags } from '../config.ts';
import { startCloud } from '../main.ts';

/** `nubo up`: runs the all-in-one cloud in the foreground until SIGINT/SIGTERM. */
export async function up(flags: Flags): Promise<void> {
  const config = loadConfig(flags);
  const cloud = await startCloud(config);
  const out = process.stdout;
  out.write(`\nNubo is up at ${config.publicUrl}  (data: ${config.dataDir}, database: ${cloud.store.kind})\n`);
  if (cloud.credentials && cloud.files) {
    out.write(`  admin user:     ${cloud.credentials.username}\n`);
    out.write(`  admin password: ${cloud.credentials.password}\n`);
    out.write(`  openrc:         source ${cloud.files.openrc}\n`);
    out.write(`  clouds.yaml:    ${cloud.files.cloudsYaml}  (export OS_CLIENT_CONFIG_FILE=${cloud.files.cloudsYaml}; --os-cloud nubo)\n\n`);
  } else {
    out.write(`  the admin password is not known to this data directory (the cloud was bootstrapped elsewhere)\n\n`);
  }
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
