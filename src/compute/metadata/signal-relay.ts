import type { IncomingMessage } from 'node:http';
import { and, eq } from 'drizzle-orm';
import { endpoints, services } from '../../identity/tables.ts';
import type { Db } from '../../lib/store/db.ts';

// A guest reaches no API but this one. The one call it makes beyond reading about itself is an
// orchestration wait condition's signal (`curl_cli` of a WaitConditionHandle), which is passed on
// to the orchestration endpoint the catalog names. The guest's X-Auth-Token is the handle's own
// token, not an identity one, so it travels in a header of its own.

/** Heat's signal path below the metadata address: /orchestration/v1/{project}/stacks/{name}/{id}/resources/{handle}/signal. */
const SIGNAL = /^\/orchestration(\/v1\/[^/]+\/stacks\/[^/]+\/[^/]+\/resources\/[^/]+\/signal)$/;
const MAX_BODY = 64 * 1024;

export const isSignal = (method: string | undefined, path: string) => method === 'POST' && SIGNAL.test(path);

async function bodyOf(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Passes a guest's signal on; answers orchestration's status and body. */
export async function relaySignal(db: Db, req: IncomingMessage, path: string): Promise<{ status: number; body: string; type: string }> {
  const body = await bodyOf(req);
  if (!body) return { status: 413, body: 'Request Entity Too Large', type: 'text/plain' };
  const [endpoint] = await db
    .select({ url: endpoints.url })
    .from(endpoints)
    .innerJoin(services, eq(services.id, endpoints.serviceId))
    .where(and(eq(services.type, 'orchestration'), eq(endpoints.interface, 'public'), eq(endpoints.enabled, true), eq(services.enabled, true)));
  const at = endpoint?.url.indexOf('/v1') ?? -1;
  if (at < 0) return { status: 404, body: 'Not Found', type: 'text/plain' };
  const token = req.headers['x-auth-token'];
  const res = await fetch(endpoint!.url.slice(0, at) + SIGNAL.exec(path)![1], {
    method: 'POST',
    headers: {
      accept: 'application/json',
      ...(body.length ? { 'content-type': 'application/json' } : {}),
      ...(typeof token === 'string' ? { 'x-nubo-signal-token': token } : {}),
    },
    body: body.length ? body.toString('utf8') : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? 'text/plain' };
}
