/**
 * Picks the one timestamp stamped on every archive member. A fixed time is what makes archives reproducible;
 * the real file times would differ on every checkout and build machine.
 */
import { NotsotufError } from '../core/errors.js';
import { MAX_OCTAL_11 } from './tar-format.js';

/**
 * The default member mtime: 2000-01-01T00:00:00Z. Not 0 (1970-01-01), because extracted files dated 1970 trip up
 * tools that treat a zero time as "unknown" (zip, some build systems and backup tools).
 */
export const DEFAULT_ARCHIVE_MTIME = 946684800;

/**
 * The member mtime, in whole seconds: `mtime` if given, else the `SOURCE_DATE_EPOCH` environment variable
 * (https://reproducible-builds.org/specs/source-date-epoch/), else {@link DEFAULT_ARCHIVE_MTIME}.
 * An empty `SOURCE_DATE_EPOCH` counts as unset.
 *
 * @throws NotsotufError INVALID_ARGUMENT when the value is not an integer from 0 to 8^11-1 (year 2242, the
 *   ustar limit).
 */
export function resolveArchiveMtime(
  mtime?: number | Date,
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  if (mtime !== undefined) {
    const seconds = mtime instanceof Date ? mtime.getTime() / 1000 : mtime;
    return checkRange(seconds, String(mtime), 'the mtime option');
  }
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return DEFAULT_ARCHIVE_MTIME;
  if (!/^[0-9]+$/.test(raw)) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not an integer.`,
      {
        details: { SOURCE_DATE_EPOCH: raw },
        hint: 'Set SOURCE_DATE_EPOCH to whole seconds since 1970-01-01 UTC (e.g. `git log -1 --format=%ct`), or unset it.',
      },
    );
  }
  return checkRange(Number(raw), raw, 'SOURCE_DATE_EPOCH');
}

function checkRange(seconds: number, shown: string, source: string): number {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_OCTAL_11) {
    throw new NotsotufError('INVALID_ARGUMENT', `Archive mtime ${shown} from ${source} is out of range.`, {
      details: { mtime: shown },
      hint: `Use whole seconds since 1970-01-01 UTC, from 0 to ${MAX_OCTAL_11}.`,
    });
  }
  return seconds;
}
