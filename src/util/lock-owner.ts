/**
 * Who holds a lock, as every notsotuf lock records it: the local lock files (`lock-file.ts`) and the publish lock
 * on a store (`storage/publish-lock.ts`). A random token tells two holders apart, even two runs of one pid; the
 * pid and host let a process of the same host see that the holder is gone.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { processAlive } from './process-alive.js';

export interface LockOwner {
  /** 32 hex digits, random: what a release and a takeover compare, never the pid. */
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch. */
  readonly created: number;
}

/** A new owner record for this process. */
export function newLockOwner(now = Date.now()): LockOwner {
  return { token: randomBytes(16).toString('hex'), pid: process.pid, host: hostname(), created: now };
}

/** A token as `newLockOwner` makes them (also safe inside a file name). */
export function isLockToken(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}

/**
 * The owner record in a lock file's text, or undefined when it is not one (empty, damaged, another tool's).
 * A record without a token (written by notsotuf before tokens) is read with `token` undefined.
 */
export function parseLockOwner(text: string): (Omit<LockOwner, 'token'> & { token?: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { token, pid, host, created } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || typeof host !== 'string' || typeof created !== 'number') return undefined;
  return { pid, host, created, ...(isLockToken(token) ? { token } : {}) };
}

/**
 * True when the owner is a process of this host that no longer runs (a killed command): its lock can be taken
 * over without waiting for it to age. Never true for another host (its pids mean nothing here) or for this
 * process itself.
 */
export function ownerGone(
  owner: { readonly pid?: number | undefined; readonly host?: string | undefined },
  here: string = hostname(),
  alive: (pid: number) => boolean = processAlive,
): boolean {
  if (owner.host !== here || typeof owner.pid !== 'number' || owner.pid === process.pid) return false;
  return !alive(owner.pid);
}
