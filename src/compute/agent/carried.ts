import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/store/db.ts';
import type { Migration } from '../resize.ts';
import { hosts } from '../tables.ts';
import type { VirtDriver } from '../virt/driver.ts';

// What a move between hosts needs besides the guest itself: where its traffic goes, and the
// console output the guest leaves behind on its source.

/** The address the other hosts reach a host at: the one its agent registered, or loopback for
 * hosts of one machine that registered none. */
export async function hostAddress(db: Db, host: string): Promise<string> {
  const [h] = await db.select({ hostIp: hosts.hostIp }).from(hosts).where(eq(hosts.name, host));
  return h?.hostIp ?? '127.0.0.1';
}

/** The ports a move's destination (live) or source (cold) listens on: this one, and the next. */
export const migrationPort = (m: Migration) => 49152 + (m.id % 8192) * 2;

/** How much of a guest's console a move carries: its end, as the migration row holds it. */
const CARRIED_BYTES = 256 * 1024;

/** The end of the guest's console here, whole lines, for the migration to carry. */
export async function carriedConsole(driver: VirtDriver, uuid: string): Promise<string> {
  const text = await driver.consoleLog(uuid);
  if (Buffer.byteLength(text) <= CARRIED_BYTES) return text;
  const end = Buffer.from(text).subarray(-CARRIED_BYTES).toString('utf8');
  return end.slice(end.indexOf('\n') + 1);
}
