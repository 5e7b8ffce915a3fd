import { ApiError, badRequest, unauthorized } from '../lib/errors.ts';
import { verifyPassword } from './passwords.ts';

/** Keystone's `[security_compliance]` options, each off when unset, as in Keystone. */
export interface SecurityCompliance {
  /** Failed password logins after which the user is locked out. */
  lockoutFailureAttempts?: number;
  /** Seconds a lockout lasts; unset: until an administrator resets the password or re-enables the user. */
  lockoutDuration?: number;
  /** Days a password stays valid after it is set. */
  passwordExpiresDays?: number;
  /** How many of the latest passwords, the current one included, a new one must differ from. */
  uniqueLastPasswordCount: number;
  /** What every new password must match (a minimum length is `^.{8,}$`), and how to tell users. */
  passwordRegex?: string;
  passwordRegexDescription?: string;
  /** A password an administrator sets (at creation or reset) must be changed by the user first. */
  changePasswordUponFirstUse: boolean;
}

export const NO_RULES: SecurityCompliance = { uniqueLastPasswordCount: 0, changePasswordUponFirstUse: false };

// Keystone answers a password that breaks the rules with 400 and these messages.
const requirements = (detail: string) => badRequest(`The password does not match the requirements: ${detail}.`);

/** Refuses a new password that does not match password_regex. */
export function checkPasswordRules(password: string, rules: SecurityCompliance): void {
  if (!rules.passwordRegex) return;
  // Python's re.match anchors at the start only, and so does this.
  if (!new RegExp(`^(?:${rules.passwordRegex})`, 'u').test(password)) throw requirements(rules.passwordRegexDescription ?? rules.passwordRegex);
}

/** Refuses a new password equal to one of the last unique_last_password_count ones. */
export async function checkPasswordHistory(password: string, hashes: string[], rules: SecurityCompliance): Promise<void> {
  const n = rules.uniqueLastPasswordCount;
  if (n <= 0) return;
  for (const hash of hashes.slice(-n)) {
    if (await verifyPassword(password, hash)) {
      throw badRequest(`The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${n}.`);
    }
  }
}

/** When a password set now expires: at once when an administrator set it and the user must change
 * it, after password_expires_days otherwise, or never. */
export function passwordExpiry(rules: SecurityCompliance, setByAdmin: boolean, now = Date.now()): Date | null {
  if (setByAdmin && rules.changePasswordUponFirstUse) return new Date(now);
  return rules.passwordExpiresDays ? new Date(now + rules.passwordExpiresDays * 86_400_000) : null;
}

/** Whether failed logins lock the user out now. */
export function isLockedOut(user: { failedAuthCount: number; failedAuthAt: Date | null }, rules: SecurityCompliance, now = Date.now()): boolean {
  const max = rules.lockoutFailureAttempts;
  if (!max || user.failedAuthCount < max) return false;
  return !rules.lockoutDuration || (user.failedAuthAt?.getTime() ?? 0) + rules.lockoutDuration * 1000 > now;
}

export const accountLocked = (userId: string): ApiError => unauthorized(`The account is locked for user: ${userId}.`);
export const passwordExpired = (userId: string): ApiError => unauthorized(`The password is expired and needs to be changed for user: ${userId}.`);
