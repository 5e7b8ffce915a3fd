/** Nova's timestamps without a zone, to the microsecond, as Python prints a naive UTC datetime
 * (the milliseconds a Date holds, then three zeros); null stays null. */
export function naive(d: Date): string;
export function naive(d: Date | null): string | null;
export function naive(d: Date | null): string | null {
  return d ? d.toISOString().replace('Z', '000') : null;
}
