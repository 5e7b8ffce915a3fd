// CONTRACT STUB: the quotas helper replaces the bodies.
import type { Db } from '../lib/store/db.ts';

export type NetworkResource = 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group' | 'security_group_rule';

/** Checks, inside the transaction that creates them, that the project may hold count more of
 * resource; concurrent creates are serialized per project so that none passes the limit.
 * Over the limit: Neutron's 409 OverQuota. */
export async function reserve(_tx: Db, _projectId: string, _resource: NetworkResource, _count = 1): Promise<void> {}
