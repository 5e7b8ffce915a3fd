import { randomUUID } from 'node:crypto';

/** The consoles Nubo serves: the guest's screen through noVNC, and its first serial port. */
export type ConsoleType = 'novnc' | 'serial';

/** What a console token opens, as Nova's console auth tokens record it. */
export interface ConsoleGrant {
  serverId: string;
  projectId: string;
  type: ConsoleType;
  host: string;
  expiresAt: number;
}

/**
 * Console tokens, held in memory by the process that proxies the guests' consoles: a token lives
 * minutes and opens one connection, so a restart that forgets them costs a user one new URL, and
 * no table keeps secrets that are dead within the TTL. A token is taken by its connection (single
 * use); the admin's lookup only reads it.
 */
export function createConsoleTokens(ttlSeconds: number, now: () => number = Date.now) {
  const grants = new Map<string, ConsoleGrant>();
  const live = (token: string): ConsoleGrant | undefined => {
    const grant = grants.get(token);
    if (grant && grant.expiresAt <= now()) grants.delete(token);
    return grants.get(token);
  };
  return {
    issue(grant: Omit<ConsoleGrant, 'expiresAt'>): string {
      // Expired tokens go when a new one is made, so the map holds at most a TTL's worth.
      for (const [token, g] of grants) if (g.expiresAt <= now()) grants.delete(token);
      const token = randomUUID();
      grants.set(token, { ...grant, expiresAt: now() + ttlSeconds * 1000 });
      return token;
    },
    /** The grant of a live token, which is spent by this call. */
    take(token: string): ConsoleGrant | undefined {
      const grant = live(token);
      grants.delete(token);
      return grant;
    },
    peek: live,
  };
}

export type ConsoleTokens = ReturnType<typeof createConsoleTokens>;
