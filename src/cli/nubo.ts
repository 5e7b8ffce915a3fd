#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('nubo').description('Nubo: an OpenStack-compatible cloud, and its command-line client');

program
  .command('up')
  .description('run the all-in-one cloud (API, store and agents) in the foreground')
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--port <port>', 'port to listen on (default 8770)')
  .option('--public-url <url>', 'base URL clients use (default http://HOST:PORT)')
  .option('--data-dir <dir>', 'data directory (default ~/.local/share/nubo)')
  .option('--database <url>', 'postgres://… for a PostgreSQL server; default: embedded, under the data directory')
  .option('--region <name>', 'region name (default RegionOne)')
  .option('--token-ttl <seconds>', 'token lifetime (default 3600)')
  .option('--config <file>', 'YAML settings file (default DATA_DIR/nubo.yaml)')
  .action(async (opts) => (await import('./up.ts')).up(opts));

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`nubo: ${err.message}\n`);
  process.exit(1);
});
