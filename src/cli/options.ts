import { Option, type Command } from 'commander';

/** For options given more than once: `--tag a --tag b`. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** --enable and --disable, which exclude each other. */
export function enableOptions(cmd: Command, what: string): Command {
  return cmd.option('--enable', `enable ${what}`).addOption(new Option('--disable', `disable ${what}`).conflicts('enable'));
}

/** true, false, or undefined when neither --enable nor --disable was given. */
export const enabledOf = (o: { enable?: boolean; disable?: boolean }) => (o.disable ? false : o.enable ? true : undefined);
