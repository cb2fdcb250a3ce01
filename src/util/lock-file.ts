/**
 * The one local lock primitive: every lock file notsotuf takes (the repository's `.notsotuf.lock`, the client
 * cache's lock, an install root's `update.lock` and `install.lock`) goes through {@link acquireLock}. The publish
 * lock on a store (`storage/publish-lock.ts`) is a different medium and shares only the owner record
 * (`lock-owner.ts`).
 *
 * Three rules make it safe between processes:
 *
 * 1. A lock appears whole. Its owner record (random token, pid, host, time) is written to a temp file
 *    (`<lock>.<hex>.tmp`), which is then hard-linked as the lock: link fails when the lock exists, like O_EXCL, and
 *    no reader ever sees a half-written lock and mistakes it for a stale one. Where the file system has no hard
 *    links, the lock is created with O_EXCL and then written; an empty lock is only ever taken over by age.
 * 2. A lock file is only ever removed (released, or taken over when stale) by the process that created its break
 *    marker, `<lock>.<id>.break`, where `id` is the removed lock's token, and only after re-reading the lock under
 *    the marker shows that same id. Two processes that judged one stale lock cannot both remove it (one creates the
 *    marker), and one that judged it before another took it over finds another token and removes nothing: without
 *    the marker, a late taker would delete the new holder's lock and both would hold it. Tokens are random, so a
 *    removed lock's id never comes back, and a marker created late is harmless.
 * 3. After creating the lock, it is read back: the lock is held only when it holds our token.
 *
 * Stale: on this host, a holder whose pid no longer runs (however old the lock: a long download keeps it); a lock
 * of another host, only once older than `staleMs`; an unreadable one (another tool's, or damaged), once its file
 * is older than `staleMs`. A break marker left by a process killed mid-takeover is judged, and removed, the same
 * way (so a crash there never wedges the lock).
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { aborted, checkAborted, isAbortError } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { hasErrno } from './durable-fs.js';
import { type LockOwner, newLockOwner, ownerGone, parseLockOwner } from './lock-owner.js';
import { processAlive } from './process-alive.js';

/** How long a lock may be held before another process may take it over (a crashed holder never releases). */
export const DEFAULT_LOCK_STALE_MS = 10 * 60 * 1000;
/** How often a waiting acquirer looks again. */
const POLL_MS = 25;
/** Break markers of break markers: only a chain of crashes mid-takeover goes deeper, and then a person looks. */
const MAX_BREAK_DEPTH = 3;

export type LockCode = 'REPO_LOCKED' | 'CACHE_LOCKED' | 'INSTALL_LOCKED';

/** Points where {@link LockOptions.onStep} is called. */
export type LockStep =
  /** A holder was judged stale; the takeover (marker, re-read, removal) comes next. */
  | 'judged-stale'
  /** The break marker is ours; the re-read of the lock comes next. */
  | 'marker-held';

export interface LockOptions {
  /** How long to wait for a held lock, polling. Default 0: fail at once. */
  readonly waitMs?: number;
  /** Stops the wait with ABORTED. */
  readonly signal?: AbortSignal;
  /**
   * Called at each {@link LockStep} and awaited, so a test can interleave racing acquirers deterministically.
   *
   * @internal
   */
  readonly onStep?: (step: LockStep, path: string) => Promise<void> | void;
}

/** A lock file as read: `id` is what a takeover compares (the token, or a digest of what the file is). */
interface Held {
  readonly id: string;
  readonly owner: (Omit<LockOwner, 'token'> & { token?: string }) | undefined;
  readonly ageMs: number;
}

/** Reads a lock (or marker) file; undefined when it is gone (or, on Windows, being deleted). */
async function readHeld(path: string): Promise<Held | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    // Windows: a file deleted while another process has it open stays, unopenable, until that handle closes.
    if (hasErrno(err, 'ENOENT') || (process.platform === 'win32' && hasErrno(err, 'EPERM', 'EACCES'))) {
      return undefined;
    }
    throw err;
  }
  try {
    const info = await fh.stat();
    const bytes = await fh.readFile();
    const owner = parseLockOwner(bytes.toString('utf8'));
    // Without a token (empty, foreign, or an older notsotuf's), the file is told apart by what it is: inode,
    // time and content. Any change makes a takeover in progress remove nothing, which is the safe side.
    const id =
      owner?.token ??
      createHash('sha256')
        .update(`${info.dev}:${info.ino}:${info.mtimeMs}:${info.size}:`)
        .update(bytes)
        .digest('hex')
        .slice(0, 32);
    return { id, owner, ageMs: Date.now() - info.mtimeMs };
  } finally {
    await fh.close();
  }
}

/** Whether a holder may be taken over (see the module comment). Pure. */
export function isStaleHolder(
  held: {
    readonly owner: { pid: number; host: string; created: number } | undefined;
    readonly ageMs: number;
  },
  context: { readonly now: number; readonly host: string; readonly staleMs: number },
  alive: (pid: number) => boolean = processAlive,
): boolean {
  const { owner } = held;
  if (owner === undefined) return held.ageMs > context.staleMs;
  if (owner.host === context.host) return ownerGone(owner, context.host, alive);
  return context.now - owner.created > context.staleMs;
}

/**
 * Creates `path` holding `owner`, only if it does not exist. False when it exists. The temp file is named after
 * `lockPath` (the lock, also for its markers), so install-root recovery finds what a kill leaves.
 */
async function createExclusive(path: string, lockPath: string, owner: LockOwner): Promise<boolean> {
  const body = JSON.stringify(owner);
  const tmp = `${lockPath}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, body, { flag: 'wx', mode: 0o644 });
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      if (hasErrno(err, 'EEXIST')) return false;
      // Windows: the name of a lock being deleted (still open elsewhere) refuses new links for a moment.
      if (process.platform === 'win32' && hasErrno(err, 'EPERM', 'EACCES')) return false;
      if (!hasErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS')) throw err;
    }
    // No hard links on this file system (FAT, some network shares): O_EXCL, then write.
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'wx', 0o644);
    } catch (err) {
      if (hasErrno(err, 'EEXIST')) return false;
      throw err;
    }
    try {
      await fh.writeFile(body);
    } finally {
      await fh.close();
    }
    return true;
  } finally {
    await rm(tmp, { force: true });
  }
}

interface BreakContext {
  readonly lockPath: string;
  readonly staleMs: number;
  readonly onStep: LockOptions['onStep'];
}

/**
 * Removes `file` only if it still holds `id`, under the break marker `<lock>.<id>.break` (rule 2).
 * `removed`: it was removed; `changed`: it holds something else now (or is gone); `busy`: another process holds
 * the marker (it is taking this lock over, or releasing it).
 */
async function removeIfStill(
  file: string,
  id: string,
  context: BreakContext,
  depth = 0,
): Promise<'removed' | 'changed' | 'busy'> {
  const marker = `${context.lockPath}.${id}.break`;
  if (!(await createExclusive(marker, context.lockPath, newLockOwner()))) {
    const other = await readHeld(marker);
    // The marker went away meanwhile: the caller looks at the lock again.
    if (other === undefined) return 'changed';
    const here = { now: Date.now(), host: hostname(), staleMs: context.staleMs };
    if (depth < MAX_BREAK_DEPTH && isStaleHolder(other, here)) {
      // Its creator died mid-takeover (or mid-release): remove its marker the same safe way, and have the caller
      // try again at once rather than report a lock that nobody holds as busy.
      const cleared = await removeIfStill(marker, other.id, context, depth + 1);
      if (cleared !== 'busy') return 'changed';
    }
    return 'busy';
  }
  try {
    await context.onStep?.('marker-held', context.lockPath);
    const now = await readHeld(file);
    if (now?.id !== id) return 'changed';
    await rm(file, { force: true });
    return 'removed';
  } finally {
    // Always ours to remove: `id` never returns to `file`, so the marker has no further use.
    await rm(marker, { force: true });
  }
}

function lockedError(path: string, what: string, code: LockCode, held: Held | undefined): NotsotufError {
  const owner = held?.owner;
  return new NotsotufError(
    code,
    `${what} is locked by another notsotuf process${owner ? ` (pid ${owner.pid} on ${owner.host})` : ''}.`,
    {
      path,
      hint: `Wait for the other command to finish. If no other command runs, delete ${path}.`,
      details: owner ? { pid: owner.pid, host: owner.host } : {},
    },
  );
}

/**
 * Takes the lock file `path` and returns its release function. A held lock fails at once with `code`, or after
 * `options.waitMs` of polling; a stale one (see the module comment) is taken over. Release removes the lock only
 * while it still holds this acquisition's token (one taken over meanwhile belongs to someone else), and is
 * idempotent.
 *
 * @throws NotsotufError `code` (REPO_LOCKED by default) while another live process holds it, ABORTED, IO_ERROR.
 */
export async function acquireLock(
  path: string,
  what: string,
  staleMs = DEFAULT_LOCK_STALE_MS,
  code: LockCode = 'REPO_LOCKED',
  options: LockOptions = {},
): Promise<() => Promise<void>> {
  const { signal, onStep } = options;
  const context: BreakContext = { lockPath: path, staleMs, onStep };
  const deadline = Date.now() + (options.waitMs ?? 0);
  const abortMessage = `Waiting for the lock ${path} was aborted.`;
  const owner = newLockOwner();
  try {
    for (let attempt = 1; ; attempt++) {
      checkAborted(signal, abortMessage);
      if (await createExclusive(path, path, owner)) {
        // Rule 3: the lock is ours only if it holds our token (a network file system may report a link it did
        // not make; another host may have judged the lock stale by its clock).
        const check = await readHeld(path);
        if (check?.id === owner.token) return releaseFor(path, owner.token, context);
      }
      const held = await readHeld(path);
      // Try again at once while the lock vanishes under us or a stale one was just removed; a few times only, so
      // a busy lock never makes this spin.
      let again = held === undefined;
      if (held && isStaleHolder(held, { now: Date.now(), host: owner.host, staleMs })) {
        await onStep?.('judged-stale', path);
        again = (await removeIfStill(path, held.id, context)) !== 'busy';
      }
      if (again && attempt < 8) continue;
      if (Date.now() >= deadline) throw lockedError(path, what, code, held);
      await sleep(POLL_MS, undefined, signal ? { signal } : {});
    }
  } catch (err) {
    if (err instanceof NotsotufError) throw err;
    if (isAbortError(err)) throw aborted(abortMessage, { cause: signal?.reason });
    throw new NotsotufError('IO_ERROR', `Could not take the lock file ${path}.`, { path, cause: err });
  }
}

function releaseFor(path: string, token: string, context: BreakContext): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      // Rule 2 for our own lock: 'busy' or 'changed' mean it was judged stale and taken over; nothing to remove.
      await removeIfStill(path, token, context);
    } catch (err) {
      throw new NotsotufError('IO_ERROR', `Could not remove the lock file ${path}.`, { path, cause: err });
    }
  };
}

/**
 * Runs `fn` holding the lock file `path` (see {@link acquireLock}), releasing it however `fn` ends.
 *
 * @throws NotsotufError as {@link acquireLock}; or what `fn` throws.
 */
export async function withLock<T>(
  path: string,
  what: string,
  code: LockCode,
  fn: () => Promise<T>,
  options: LockOptions & { readonly staleMs?: number } = {},
): Promise<T> {
  const release = await acquireLock(path, what, options.staleMs, code, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}
