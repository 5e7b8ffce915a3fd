import type { FastifyRequest } from 'fastify';
import { authOf } from '../../lib/http/auth.ts';
import { isAdmin } from '../policy.ts';
import type { Caller } from '../provisioning.ts';

/** Who acts: the token's project, and whether it may see every project's (admin). */
export function callerOf(request: FastifyRequest): Caller {
  const auth = authOf(request);
  return { projectId: auth.project?.id ?? '', isAdmin: isAdmin(auth) };
}

/** The project a new resource goes to: the body's project_id (admins only), else the token's. */
export function projectFor(caller: Caller, asked: unknown): string {
  return caller.isAdmin && typeof asked === 'string' && asked ? asked : caller.projectId;
}

export type Query = Record<string, string | undefined>;
