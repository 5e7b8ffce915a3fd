// Which compute microversion nubo speaks: the one asked for (--os-compute-api-version,
// OS_COMPUTE_API_VERSION, clouds.yaml's compute_api_version), else the highest that both nubo and
// the cloud implement, as novaclient's "auto" negotiation picks it. The cloud's range is kept
// beside the token cache, so that a command pays no extra round trip for it.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientError } from './errors.ts';
import { send, type Logger } from './http.ts';

/** The lowest and highest compute microversions whose requests and answers nubo implements. */
export const COMPUTE_MIN = '2.1';
export const COMPUTE_MAX = '2.91';

/** A cloud's range is asked again after this long (and at once when it refuses a version: 406). */
const KEEP_MS = 24 * 3_600_000;

const parts = (v: string) => v.split('.').map(Number) as [number, number];

/** Compares two versions numerically: 2.10 is above 2.9. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  return x[0] - y[0] || x[1] - y[1];
}

const lowest = (a: string, b: string) => (compareVersions(a, b) <= 0 ? a : b);

/**
 * The version the user asked for, checked against what nubo implements as openstackclient checks
 * it; `undefined` for none, or for `latest` (negotiated). `2` and `2.0` mean the base version.
 */
export function requestedVersion(asked: string | undefined): string | undefined {
  if (asked === undefined || asked === '' || /^(2\.)?latest$/i.test(asked)) return undefined;
  if (asked === '2' || asked === '2.0') return COMPUTE_MIN;
  if (!/^2\.(0|[1-9]\d*)$/.test(asked)) throw new ClientError(`Invalid compute API version: ${asked}`);
  if (compareVersions(asked, COMPUTE_MIN) < 0 || compareVersions(asked, COMPUTE_MAX) > 0)
    throw new ClientError(`versions supported by client: ${COMPUTE_MIN} - ${COMPUTE_MAX}`);
  return asked;
}

/** A cloud's compute range, as its version document (GET on the endpoint) gives it. */
interface Range {
  min: string;
  max: string;
  checkedAt: number;
}

function fileOf(dir: string, endpoint: string): string {
  return join(dir, `${createHash('sha256').update(endpoint).digest('hex')}.json`);
}

function readKept(dir: string | undefined, endpoint: string): Range | undefined {
  if (!dir) return undefined;
  try {
    const r = JSON.parse(readFileSync(fileOf(dir, endpoint), 'utf8')) as Range;
    return typeof r.min === 'string' && typeof r.max === 'string' && Date.now() - r.checkedAt < KEEP_MS ? r : undefined;
  } catch {
    return undefined;
  }
}

function keep(dir: string | undefined, endpoint: string, range: Range): void {
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = fileOf(dir, endpoint);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(range), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next command a request.
  }
}

async function askRange(endpoint: string, token: string, log?: Logger): Promise<Range> {
  const res = await send<{ version?: { version?: string; min_version?: string } }>({ method: 'GET', url: `${endpoint}/`, token }, log);
  const v = res.body?.version;
  // A cloud without microversions (an empty version) speaks the base version only.
  return { min: v?.min_version || COMPUTE_MIN, max: v?.version || COMPUTE_MIN, checkedAt: Date.now() };
}

/**
 * The highest version both sides implement, from the kept range of this endpoint or a fresh look
 * at it (`fresh`, after the cloud refused the kept answer).
 */
export async function negotiateCompute(endpoint: string, token: string, opts: { cacheDir?: string; fresh?: boolean; log?: Logger } = {}): Promise<string> {
  let range = opts.fresh ? undefined : readKept(opts.cacheDir, endpoint);
  if (!range) {
    range = await askRange(endpoint, token, opts.log);
    keep(opts.cacheDir, endpoint, range);
  }
  const version = lowest(COMPUTE_MAX, range.max);
  if (compareVersions(version, range.min) < 0)
    throw new ClientError(`The compute service needs microversion ${range.min} at least; nubo implements ${COMPUTE_MIN} to ${COMPUTE_MAX}`);
  return version;
}
