import { randomBytes, randomUUID } from 'node:crypto';
import { ServiceError } from '../services.ts';
import type { ResourceContext, ResourceType } from './types.ts';

/** One signal a handle received, as Heat keeps it (keyed by its id). */
export interface Signal {
  status: 'SUCCESS' | 'FAILURE';
  reason: string;
  data: unknown;
}

/** Where a guest reaches orchestration: its network's metadata proxy passes a wait condition's
 * signal on, and nothing else of this API. */
const GUEST_BASE = 'http://169.254.169.254/orchestration/v1';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The signal path of a handle, below the API's root. */
export const signalPath = (ctx: Pick<ResourceContext, 'projectId' | 'stackName' | 'stackId' | 'name'>) =>
  `/${ctx.projectId}/stacks/${encodeURIComponent(ctx.stackName)}/${ctx.stackId}/resources/${encodeURIComponent(ctx.name)}/signal`;

/** Waits until the handle holds count successful signals; fails at the first FAILURE with its
 * reason, or at the timeout with how many came, as Heat words both. */
async function awaitSignals(ctx: ResourceContext, handle: string, count: number, timeoutS: number): Promise<Record<string, Signal>> {
  const deadline = Math.min(ctx.deadline, Date.now() + timeoutS * 1000);
  for (;;) {
    const signals = await ctx.signals(handle);
    if (!signals) throw new ServiceError('NotFound', `The WaitConditionHandle (${handle}) could not be found.`, 404);
    const all = Object.values(signals);
    const failed = all.filter((s) => s.status !== 'SUCCESS');
    if (failed.length) throw new ServiceError('WaitConditionFailure', failed.map((s) => s.reason).join(';'), 400);
    if (all.length >= count) return signals;
    if (Date.now() > deadline) {
      const reasons = all.map((s) => s.reason).join(';');
      throw new ServiceError('WaitConditionTimeout', `${all.length} of ${count} received${reasons ? ` - ${reasons}` : ''}`, 504);
    }
    if (ctx.stopping()) throw new ServiceError('EngineStopping', 'the engine stopped while waiting for signals.', 503);
    await sleep(Math.min(500, Math.max(0, deadline - Date.now()) + 1));
  }
}

/** The count and timeout of a WaitCondition, checked as Heat's schema does. */
function limits(p: Record<string, unknown>): { count: number; timeout: number } {
  const count = p.count === undefined || p.count === null ? 1 : Number(p.count);
  const timeout = Number(p.timeout);
  if (!Number.isInteger(count) || count < 1) throw new ServiceError('StackValidationFailed', `count: ${String(p.count)} must be an integer of 1 or more`, 400);
  if (!Number.isFinite(timeout) || timeout < 1 || timeout > 43200)
    throw new ServiceError('StackValidationFailed', `timeout: ${String(p.timeout)} is not between 1 and 43200`, 400);
  return { count, timeout };
}

/** What a WaitCondition shows once it has its signals: their data by id, as a JSON text. */
const dataOf = (signals: Record<string, Signal>) => ({ data: JSON.stringify(Object.fromEntries(Object.entries(signals).map(([id, s]) => [id, s.data]))) });

export const WAIT: Record<string, ResourceType> = {
  // Where signals are sent: a token only the stack's reader and the guest given it know, and the
  // path that takes the token through the metadata service.
  'OS::Heat::WaitConditionHandle': {
    properties: ['signal_transport'],
    attributes: ['token', 'endpoint', 'curl_cli', 'signal'],
    async create(ctx, p) {
      if (p.signal_transport !== undefined && p.signal_transport !== 'TOKEN_SIGNAL') {
        throw new ServiceError('StackValidationFailed', `signal_transport: only TOKEN_SIGNAL is supported, not ${String(p.signal_transport)}`, 400);
      }
      const token = randomBytes(32).toString('hex');
      const endpoint = GUEST_BASE + signalPath(ctx);
      return { id: randomUUID(), data: { token, endpoint, signals: {} } };
    },
    async delete() {
      // Kept with the stack only.
    },
    attribute(data, name) {
      if (name === 'curl_cli') {
        return `curl -i -X POST -H 'X-Auth-Token: ${data.token}' -H 'Content-Type: application/json' -H 'Accept: application/json' ${data.endpoint}`;
      }
      if (name === 'signal') return { endpoint: data.endpoint, token: data.token };
      return undefined;
    },
  },
  // Holds the stack's create until the handle has count successful signals.
  'OS::Heat::WaitCondition': {
    properties: ['handle', 'timeout', 'count'],
    required: ['handle', 'timeout'],
    attributes: ['data'],
    updatable: ['count', 'timeout'],
    async create(ctx, p) {
      const { count, timeout } = limits(p);
      const signals = await awaitSignals(ctx, String(p.handle), count, timeout);
      return { id: randomUUID(), data: { ...dataOf(signals), handle: p.handle, count, timeout } };
    },
    // A new count waits again, the signals already received counting.
    async update(ctx, _id, changed, data) {
      const { count, timeout } = limits({ count: data.count, timeout: data.timeout, ...changed });
      return { ...dataOf(await awaitSignals(ctx, String(data.handle), count, timeout)), handle: data.handle, count, timeout };
    },
    async delete() {
      // Kept with the stack only.
    },
  },
};
