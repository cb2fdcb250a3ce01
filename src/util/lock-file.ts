import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { NotsotufError } from '../core/errors.js';
import { processAlive } from './process-alive.js';

/** How long a lock may be held before another process may take it over (a crashed holder never releases). */
export const DEFAULT_LOCK_STALE_MS = 10 * 60 * 1000;

interface LockInfo {
  pid: number;
  host: string;
  created: number;
}

/**
 * Takes an exclusive lock file (created with O_EXCL, so two processes cannot both win) and returns its release
 * function. A lock left by a dead process on this host, or older than `staleMs`, is taken over.
 */
export async function acquireLock(
  path: string,
  what: string,
  staleMs = DEFAULT_LOCK_STALE_MS,
  code: 'REPO_LOCKED' | 'CACHE_LOCKED' = 'REPO_LOCKED',
): Promise<() => Promise<void>> {
  const info: LockInfo = { pid: process.pid, host: hostname(), created: Date.now() };
  for (let attempt = 0; attempt < 2; attempt++) {
    // The lock appears with its content already in it (hard link of a finished temp file, which fails if the lock
    // exists), so no other process can ever read a half-written lock and mistake it for a stale one.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
      await link(tmp, path);
      await rm(tmp, { force: true });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new NotsotufError('IO_ERROR', `Could not create the lock file ${path}.`, { path, cause: err });
      }
      const holder = await readFile(path, 'utf8')
        .then((t) => JSON.parse(t) as LockInfo)
        .catch(() => undefined);
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      );
      // On this host the holder's liveness decides (a long download must keep its lock however long it takes);
      // a lock of another host, or an unreadable one (another tool's, or damaged), is only taken over once old.
      const stale = holder
        ? holder.host === info.host
          ? !processAlive(holder.pid)
          : Date.now() - holder.created > staleMs
        : age > staleMs;
      if (attempt === 0 && stale) {
        await rm(path, { force: true });
        continue;
      }
      throw new NotsotufError(
        code,
        `${what} is locked by another notsotuf process${holder ? ` (pid ${holder.pid} on ${holder.host})` : ''}.`,
        {
          path,
          hint: `Wait for the other command to finish. If no other command runs, delete ${path}.`,
          details: holder ? { pid: holder.pid, host: holder.host } : {},
        },
      );
    }
  }
  throw new NotsotufError(code, `${what} is locked.`, { path });
}
