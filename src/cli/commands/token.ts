import type { Command } from 'commander';
import { connect } from '../context.ts';
import { printShow, showOptions } from '../output.ts';

/** Keystone's expiry as openstackclient prints it: UTC, whole seconds, `+0000`. */
export const expiry = (iso: string) => new Date(iso).toISOString().replace(/\.\d+Z$/, '+0000');

export function register(token: Command): void {
  showOptions(token.command('issue').description('issue a new token')).action(async (_opts, cmd: Command) => {
    // A new token, as the command says, not one kept from an earlier command.
    const { session } = await connect(cmd, { fresh: true });
    const t = session.auth;
    await printShow(cmd, {
      expires: expiry(t.expires_at),
      id: session.token,
      ...(t.project ? { project_id: t.project.id } : {}),
      ...(t.domain ? { domain_id: t.domain.id } : {}),
      user_id: t.user.id,
    });
  });

  token
    .command('revoke')
    .description('revoke a token')
    .argument('<token>', 'the token to revoke')
    .action(async (id: string, _opts, cmd: Command) => {
      const { identity } = await connect(cmd);
      await identity.revokeToken(id);
    });
}
