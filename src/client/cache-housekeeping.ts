/**
 * The update cache after an install: past the point of no return, so every step is best effort and only warns.
 */
import { basename } from 'node:path';
import { tryParseVersion } from '../core/version.js';
import type { ClientContext } from './client-context.js';
import type { InstalledApp } from './installed-app.js';

/**
 * Keeps the archive just installed (`archivePath`, the next patch's base) and those of the versions the install
 * root keeps, removes every other cached target, then empties the work directory.
 */
export async function tidyCacheAfterInstall(
  ctx: ClientContext,
  installed: InstalledApp,
  archivePath: string,
): Promise<void> {
  const keep = basename(archivePath);
  // The versioned layout keeps the previous version for a rollback; after one, that version runs again and
  // its archive is the base of the next patch. So the archives of every version the root keeps stay.
  await installed
    .keptVersions()
    .then((versions) =>
      ctx.cache.prune(
        ctx.options.appName,
        keep,
        versions.flatMap((v) => tryParseVersion(v) ?? []),
      ),
    )
    .catch((err) => ctx.emit('warning', { message: 'Could not clean the update cache.', cause: err }));
  await ctx.cache.clearWork().catch(() => {});
}
