import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../../lib/http/policy.ts';
import { badRequest, forbidden, notFound, unauthorized } from '../../lib/errors.ts';
import type { Orchestration } from '../service.ts';
import { holdsToken, recordSignal } from '../signals.ts';
import { findStack, resourcesOf } from '../stacks.ts';

/** The header in which the metadata service passes on the token a guest sent (a handle's, which
 * is no identity token). */
export const SIGNAL_TOKEN_HEADER = 'x-nubo-signal-token';

type SignalRequest = FastifyRequest<{ Params: { project_id: string; stack: string; id?: string; resource: string }; Body: unknown }>;

/**
 * `POST …/resources/{handle}/signal`: a user of the project signals with their own token (what
 * `openstack stack resource signal` sends); a guest, through the metadata service, with the
 * handle's token. The route is open, so each call is checked here.
 */
export function signalRoutes(api: FastifyInstance, svc: Orchestration): void {
  const handler = async (request: SignalRequest) => {
    const p = request.params;
    const guestToken = request.headers[SIGNAL_TOKEN_HEADER];
    if (request.auth) {
      if (!allows('resource:signal', request.auth, p)) throw forbidden("Policy doesn't allow resource:signal to be performed.");
    } else if (typeof guestToken !== 'string' || guestToken === '') throw unauthorized();
    // With a handle's token, whatever does not match says no more than that.
    const refuse = (err: Error) => (request.auth ? err : unauthorized());
    const stack = await findStack(svc.store, p.project_id, p.stack, p.id).catch((err) => {
      throw refuse(err);
    });
    const row = (await resourcesOf(svc.store, stack)).find((r) => r.name === p.resource);
    if (!row) throw refuse(notFound(`The Resource (${p.resource}) could not be found in Stack ${stack.name}.`, 'ResourceNotFound'));
    if (!request.auth && !holdsToken(row, guestToken as string)) throw unauthorized();
    if (typeof row.data.token !== 'string')
      throw badRequest(`Signal resource during ${row.action} is not supported: ${row.name} takes no signals.`, 'ResourceActionNotSupported');
    await recordSignal(svc.store.db, stack, row, request.body);
    return null;
  };
  for (const url of ['/:project_id/stacks/:stack/resources/:resource/signal', '/:project_id/stacks/:stack/:id/resources/:resource/signal']) {
    api.post(url, { config: { public: true } }, handler as never);
  }
}
