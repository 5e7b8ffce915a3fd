import { tooManyRequests } from '../lib/errors.ts';
import type { AuthRequest } from './authenticate.ts';

export interface LoginLimitOptions {
  /** Failed logins of one user within the window, after which the user's logins are refused. */
  userFailures: number;
  /** Logins from one address within the window that did not succeed, those still being checked
   * included, after which the address's logins are refused. */
  addressAttempts: number;
  /** The window, seconds. */
  window: number;
}

/** The newest failure times of each key, at most as many as the limit, over a sliding window. */
class Failures {
  private readonly times = new Map<string, number[]>();
  private sweepAt = 1024;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Failures within the window, and the time the oldest of them leaves it. */
  count(key: string, now: number): { n: number; until: number } {
    const list = (this.times.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.times.set(key, list);
    else this.times.delete(key);
    return { n: list.length, until: (list[0] ?? now) + this.windowMs };
  }

  add(key: string, now: number): void {
    const list = this.times.get(key) ?? [];
    list.push(now);
    if (list.length > this.limit) list.shift();
    this.times.set(key, list);
    if (this.times.size >= this.sweepAt) this.sweep(now);
  }

  clear(key: string): void {
    this.times.delete(key);
  }

  // Keys whose failures have all left the window go, so that names that were tried once don't pile up.
  private sweep(now: number): void {
    for (const [key, list] of this.times) if (list.at(-1)! <= now - this.windowMs) this.times.delete(key);
    this.sweepAt = Math.max(1024, this.times.size * 2);
  }
}

/** Who a login names, by the request's own words: unknown and known names are counted alike. */
export function loginSubject(auth: AuthRequest): string | undefined {
  const ref = (u?: { id?: string; name?: string; domain?: { id?: string; name?: string } }) =>
    u?.id ? `id:${u.id}` : `name:${u?.domain?.id ? `id:${u.domain.id}` : `name:${u?.domain?.name}`}/${u?.name}`;
  const { password, application_credential: ac } = auth.identity;
  switch (auth.identity.methods[0]) {
    case 'password':
      return `user ${ref(password?.user)}`;
    case 'application_credential':
      return ac?.id ? `application credential ${ac.id}` : `application credential ${ac?.name} of ${ref(ac?.user)}`;
    default:
      return undefined;
  }
}

/**
 * Limits password and application-credential logins: failures per user (or credential) and
 * unsuccessful attempts per source address, each over a sliding window. A login over a limit is
 * refused before its secret is hashed, so a flood of guesses costs the server little and slows
 * only itself; a user's success clears the user's failures.
 */
export class LoginLimits {
  private readonly users: Failures;
  private readonly addresses: Failures;
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly options: LoginLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new Failures(options.userFailures, options.window * 1000);
    this.addresses = new Failures(options.addressAttempts, options.window * 1000);
  }

  /** Throws a 429 when the address is over its limit: checked before the body is read. */
  checkAddress(address: string): void {
    const now = this.now();
    const failures = this.addresses.count(address, now);
    if (failures.n + (this.inFlight.get(address) ?? 0) < this.options.addressAttempts) return;
    // Logins still being checked end within seconds; failures only when they leave the window.
    const until = failures.n >= this.options.addressAttempts ? failures.until : now + 1000;
    throw tooManyRequests('Too many unsuccessful logins from this address; try again later.', Math.max(1, Math.ceil((until - now) / 1000)));
  }

  /** Runs the login unless the subject or the address is over its limit; a 401 counts against both. */
  async attempt<T>(auth: AuthRequest, address: string, login: () => Promise<T>): Promise<T> {
    const subject = loginSubject(auth);
    if (subject === undefined) return login();
    this.check(subject, address);
    this.inFlight.set(address, (this.inFlight.get(address) ?? 0) + 1);
    try {
      const result = await login();
      this.users.clear(subject);
      return result;
    } catch (err) {
      if ((err as { status?: number })?.status === 401) {
        this.users.add(subject, this.now());
        this.addresses.add(address, this.now());
      }
      throw err;
    } finally {
      const n = this.inFlight.get(address)! - 1;
      if (n) this.inFlight.set(address, n);
      else this.inFlight.delete(address);
    }
  }

  private check(subject: string, address: string): void {
    const now = this.now();
    const user = this.users.count(subject, now);
    if (user.n >= this.options.userFailures)
      throw tooManyRequests('Too many failed logins for this user; try again later.', Math.max(1, Math.ceil((user.until - now) / 1000)));
    this.checkAddress(address);
  }
}
