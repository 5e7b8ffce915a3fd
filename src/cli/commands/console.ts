import { InvalidArgumentError, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { connect } from '../context.ts';
import { integer } from './image-options.ts';
import { printShow, showOptions } from '../output.ts';

/** The console kinds openstack's `console url show` takes, as remote-consoles' protocol and type. */
const URL_TYPES: Record<string, [string, string]> = {
  novnc: ['vnc', 'novnc'],
  xvpvnc: ['vnc', 'xvpvnc'],
  spice: ['spice', 'spice-html5'],
  rdp: ['rdp', 'rdp-html5'],
  serial: ['serial', 'serial'],
  mks: ['mks', 'webmks'],
};

/** --lines, which cannot be negative. */
function lines(value: string): number {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError('--lines expected a non-negative integer');
  return n;
}

/** `console log show`: a server's serial console output. */
export function register(console: Command): void {
  console
    .command('log')
    .description("servers' console logs")
    .command('show')
    .description("show a server's console output")
    .argument('<server>', 'server to show the console log of (name or ID)')
    .option('--lines <num-lines>', 'only this many lines from the end of the log (default: all)', lines)
    .action(async (ref: string, o: { lines?: number }, cmd: Command) => {
      const { session } = await connect(cmd);
      const compute = new ComputeClient(session);
      const found = await compute.findServer(ref, { style: 'sdk' });
      const output = await compute.consoleOutput(found.id, o.lines);
      process.stdout.write(output && !output.endsWith('\n') ? output + '\n' : output);
    });

  const url = showOptions(
    console.command('url').description("servers' remote console URLs").command('show').description("show a URL that opens a server's console"),
  ).argument('<server>', 'server to show the console URL of (name or ID)');
  for (const [name, [protocol, type]] of Object.entries(URL_TYPES)) {
    url.option(`--${name}`, `a ${type} console (${protocol})${name === 'novnc' ? ', the default' : ''}`);
  }
  url.action(async (ref: string, o: Record<string, boolean | undefined>, cmd: Command) => {
    const chosen = Object.keys(URL_TYPES).filter((k) => o[k]);
    if (chosen.length > 1) throw new InvalidArgumentError(`only one of ${chosen.map((k) => `--${k}`).join(', ')}`);
    const [protocol, type] = URL_TYPES[chosen[0] ?? 'novnc']!;
    const { session } = await connect(cmd);
    const compute = new ComputeClient(session);
    const found = await compute.findServer(ref, { style: 'sdk' });
    // openstack prints the fields sorted by name.
    const c = await compute.remoteConsole(found.id, protocol, type);
    await printShow(cmd, { protocol: c.protocol, type: c.type, url: c.url });
  });
}
