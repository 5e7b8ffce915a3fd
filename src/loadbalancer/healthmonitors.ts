import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { badRequest, conflict } from '../lib/errors.ts';
import type { Store } from '../lib/store/db.ts';
import { findChild, underLock, type MonitorRow } from './children.ts';
import type { Caller } from './provisioning.ts';
import { healthMonitors, type MonitorType } from './tables.ts';
import { withinQuota } from './quotas.ts';

export interface MonitorInput {
  projectId: string;
  poolId: string;
  type: MonitorType;
  delay: number;
  timeout: number;
  maxRetries: number;
  maxRetriesDown?: number;
  httpMethod?: string;
  urlPath?: string;
  expectedCodes?: string;
  name?: string;
  adminStateUp?: boolean;
  tags?: string[];
}

/** Octavia's expected_codes: one code, a list (200,202) or a range (200-204). */
export const EXPECTED_CODES = /^[1-5]\d\d(?:(?:,[1-5]\d\d)*|-[1-5]\d\d)$/;

/** The monitors that ask members an HTTP question (over TLS for HTTPS). */
export const asksHttp = (type: MonitorType) => type === 'HTTP' || type === 'HTTPS';

export function checkHttpFields(type: MonitorType, m: { httpMethod?: string; urlPath?: string; expectedCodes?: string }): void {
  const http = asksHttp(type);
  if (!http && (m.httpMethod || m.urlPath || m.expectedCodes)) throw badRequest(`http_method, url_path and expected_codes are only valid for HTTP and HTTPS health monitors, not ${type}.`);
  if (m.urlPath !== undefined && !/^\/[^\s]*$/.test(m.urlPath)) throw badRequest(`Invalid input for field/attribute url_path. Value: '${m.urlPath}'. Not a valid URL path.`);
  if (m.expectedCodes !== undefined && !EXPECTED_CODES.test(m.expectedCodes)) throw badRequest(`Invalid input for field/attribute expected_codes. Value: '${m.expectedCodes}'. Value should match the pattern ^(\\d{3}(\\s*,\\s*\\d{3})*)$|^(\\d{3}-\\d{3})$`);
}

export async function createMonitor(store: Store, caller: Caller, input: MonitorInput): Promise<MonitorRow> {
  const pool = await findChild(store.db, caller, 'pool', input.poolId);
  if (input.timeout > input.delay) throw badRequest('Invalid input: timeout must be less than or equal to delay.');
  checkHttpFields(input.type, input);
  const http = asksHttp(input.type);
  return underLock(store, caller, pool.loadBalancerId, async (tx, lb) => {
    await withinQuota(tx, lb.projectId, 'health_monitor');
    const [taken] = await tx.select({ id: healthMonitors.id }).from(healthMonitors).where(eq(healthMonitors.poolId, pool.id));
    if (taken) throw conflict(`This pool ${pool.id} already has a health monitor`);
    const [row] = await tx
      .insert(healthMonitors)
      .values({
        ...input,
        id: randomUUID(),
        projectId: lb.projectId,
        loadBalancerId: lb.id,
        httpMethod: http ? (input.httpMethod ?? 'GET') : null,
        urlPath: http ? (input.urlPath ?? '/') : null,
        expectedCodes: http ? (input.expectedCodes ?? '200') : null,
      })
      .returning();
    return row!;
  });
}
