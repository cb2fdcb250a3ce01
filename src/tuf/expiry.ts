import { NotsotufError } from '../core/errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// TUF's `expires` as python-tuf writes and accepts it: no fractional seconds, always UTC.
const EXPIRES_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Formats a date as `YYYY-MM-DDTHH:MM:SSZ` (python-tuf rejects the `.000Z` that toISOString adds). */
export function formatExpiry(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The expiry `days` from `now`, rounded down to the second. */
export function expiryInDays(days: number, now: Date): string {
  return formatExpiry(new Date(Math.floor((now.getTime() + days * DAY_MS) / 1000) * 1000));
}

/**
 * Parses an `expires` string strictly. @tufjs/models treats an unparseable date as never expiring,
 * so every reader of metadata goes through this check.
 */
export function parseExpiry(value: unknown, role: string): Date {
  const match = typeof value === 'string' ? EXPIRES_RE.exec(value) : null;
  const date = match ? new Date(value as string) : undefined;
  if (!date || Number.isNaN(date.getTime()) || formatExpiry(date) !== value) {
    throw new NotsotufError(
      'METADATA_INVALID',
      `The ${role} metadata has an invalid expiry date ${JSON.stringify(value)}.`,
      {
        hint: 'Expiry dates must look like 2030-01-31T12:00:00Z. Re-sign the role with notsotuf refresh.',
        details: { role },
      },
    );
  }
  return date;
}

/** Days (fractional) from `now` until `expires`; negative when already expired. */
export function daysUntil(expires: Date, now: Date): number {
  return (expires.getTime() - now.getTime()) / DAY_MS;
}
