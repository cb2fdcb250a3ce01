import { NotsotufError } from '../core/errors.js';
import { newLockOwner, ownerGone } from '../util/lock-owner.js';
import type { ObjectStore } from './object-store.js';

/** The lock object at the destination's top (outside metadata/ and targets/, so clients never see it). */
export const LOCK_KEY = '.notsotuf-publish.lock';
/** A publish that holds the lock longer than this is presumed dead: a crashed CI job must not block forever. */
export const DEFAULT_LOCK_TTL_MS = 30 * 60_000;

interface LockBody {
  readonly owner: string;
  readonly host?: string;
  readonly pid?: number;
  readonly token: string;
  readonly created: string;
  readonly expires: string;
}

function parseLock(bytes: Buffer | undefined): LockBody | undefined {
  if (!bytes) return undefined;
  try {
    const body = JSON.parse(bytes.toString('utf8')) as Partial<LockBody>;
    return typeof body.token === 'string' && typeof body.expires === 'string'
      ? (body as LockBody)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the publish lock: creates the lock object only if none exists (atomically where the store can), then
 * reads it back and checks it holds our random token, so of two publishers racing on a store without
 * conditional writes at most one goes on. A lock past its expiry, or left by a process of this host that is gone
 * (a killed publish), is removed and taken over once.
 *
 * @returns a function that releases the lock
 * @throws NotsotufError STORAGE_LOCKED while another publish holds it.
 */
export async function acquirePublishLock(
  store: ObjectStore,
  options: { ttlMs?: number; now?: () => number } = {},
): Promise<() => Promise<void>> {
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
  // The same owner record as the local lock files: a random token, and the pid and host that let this host see
  // a killed publish.
  const { token, host, pid, created } = newLockOwner(now());
  const body: LockBody = {
    owner: `${host} pid ${pid}`,
    host,
    pid,
    token,
    created: new Date(created).toISOString(),
    expires: new Date(now() + ttl).toISOString(),
  };
  const bytes = Buffer.from(`${JSON.stringify(body, null, 2)}\n`);
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await store.createExclusive(LOCK_KEY, bytes, {
      contentType: 'application/json',
      cacheControl: 'no-store',
    });
    const held = parseLock(await store.getBytes(LOCK_KEY, 1 << 16));
    if (created && held?.token === token) {
      return async () => {
        // Only our own lock is removed: one taken over after expiry belongs to someone else now.
        const still = parseLock(await store.getBytes(LOCK_KEY, 1 << 16));
        if (still?.token === token) await store.delete(LOCK_KEY);
      };
    }
    if (held && (Date.parse(held.expires) < now() || ownerGone(held)) && attempt === 0) {
      await store.delete(LOCK_KEY);
      continue;
    }
    throw new NotsotufError(
      'STORAGE_LOCKED',
      `Another publish holds ${store.description}/${LOCK_KEY}${held ? ` (${held.owner}, since ${held.created}, until ${held.expires})` : ''}.`,
      {
        hint: `Wait for it to finish. If it crashed, the lock expires by itself; or delete ${LOCK_KEY} at the destination once you are sure no publish is running.`,
      },
    );
  }
  throw new NotsotufError('STORAGE_LOCKED', `Could not take ${store.description}/${LOCK_KEY}.`, {
    hint: 'Another publish took it at the same moment; run again.',
  });
}
