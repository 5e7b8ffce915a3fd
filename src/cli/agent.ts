import { loadConfig, type Flags } from '../config.ts';
import { startAgent } from '../agent.ts';
import { createLogger } from '../lib/log.ts';

/** `nubo agent`: runs this host's compute and network agents in the foreground until SIGINT/SIGTERM. */
export async function agent(flags: Flags): Promise<void> {
  const config = loadConfig(flags);
  const log = createLogger();
  const running = await startAgent(config, log);
  process.stdout.write(`\nNubo agent is up for host ${running.host}  (data: ${config.dataDir}, driver: ${config.computeDriver})\n\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
