// CONTRACT STUB: the security groups helper replaces the bodies.
import type { Db } from '../lib/store/db.ts';

/** The project's `default` group, made (with Neutron's default rules) on first need. */
export async function defaultSecurityGroupId(_tx: Db, _projectId: string): Promise<string> {
  throw new Error('not implemented');
}

/** Resolves names or ids of groups the project may use to ids; 404 for an unknown one. */
export async function resolveSecurityGroups(_tx: Db, _projectId: string, _namesOrIds: string[]): Promise<string[]> {
  throw new Error('not implemented');
}
