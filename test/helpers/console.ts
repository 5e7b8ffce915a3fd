import assert from 'node:assert/strict';
import { eventually } from './netns.ts';

/**
 * Polls a server's console log (`console log show`, through cli) until it matches pattern, and
 * returns the log. A command that fails counts as not yet: a server still building has no console
 * to show. Fails with the last log seen.
 */
export async function consoleUntil(cli: (...args: string[]) => Promise<string>, name: string, pattern: RegExp, timeoutMs = 480_000): Promise<string> {
  let log = '';
  const matches = async () => pattern.test((log = await cli('console', 'log', 'show', name).catch(() => log)));
  await eventually(`console of ${name} matches ${pattern}`, matches, timeoutMs).catch(() => assert.fail(`console of ${name} never matched ${pattern}:\n${log}`));
  return log;
}
