import { InvalidArgumentError, type Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { connect } from '../context.ts';
import { integer } from './image-options.ts';

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
}
