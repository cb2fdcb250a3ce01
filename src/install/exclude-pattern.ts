/**
 * Exclude patterns protect installed entries from purge (tufup's `exclude_from_purge`, which only compared
 * top-level paths). The rules are the ones users know from .gitignore, and they match how robocopy treats a
 * bare name on Windows:
 * - a pattern without a slash inside (`logs`, `logs/`, `*.log`) matches an entry of that name at any depth;
 * - a pattern with a slash inside (`data/cache`) is anchored at the install directory;
 * - an entry that matches protects its whole subtree;
 * - `*` matches any run of characters within one path segment; every other character is literal.
 *
 * Pure string work, no I/O. The same regular expressions run in the Windows hand-over script (.NET regex),
 * so only syntax both engines read the same way is produced.
 */
import { NotsotufError } from '../core/errors.js';

/**
 * Always protected: the backup and work directories of a running or crashed install (`.notsotuf-backup-*`,
 * `.notsotuf-*`). A crashed install's backup may be the only copy of the previous version.
 */
export const ALWAYS_EXCLUDED: readonly string[] = ['.notsotuf-*'];

const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}]/g;

function escapeRegExp(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

/** Normalizes a pattern to its segments, or throws INVALID_ARGUMENT. Backslashes count as separators. */
function patternSegments(pattern: string): string[] {
  let text = pattern.replaceAll('\\', '/');
  while (text.startsWith('./')) text = text.slice(2);
  text = text.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = text.split('/');
  if (text === '' || text.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new NotsotufError('INVALID_ARGUMENT', `Invalid exclude pattern ${JSON.stringify(pattern)}.`, {
      hint: 'Use paths relative to the install directory, such as "logs", "data/cache" or "*.log" (no "..").',
      details: { pattern },
    });
  }
  return segments;
}

/**
 * The regular expression (source text) an exclude pattern compiles to; it is tested against posix relative paths.
 * @throws NotsotufError INVALID_ARGUMENT for an empty pattern or one with `..`, `.` or empty segments.
 */
export function excludePatternSource(pattern: string): string {
  const segments = patternSegments(pattern).map((s) => s.split('*').map(escapeRegExp).join('[^/]*'));
  return segments.length === 1 ? `(?:^|/)${segments[0]}(?:/|$)` : `^${segments.join('/')}(?:/|$)`;
}

/** The regular expression (source text) that protects one exact relative path and its subtree. */
export function literalPathSource(relPath: string): string {
  return `^${escapeRegExp(relPath)}(?:/|$)`;
}

/** Options for {@link createExcludeMatcher}. */
export interface ExcludeMatcherOptions {
  /** Match letters case-insensitively (Windows file systems). Default false. */
  readonly ignoreCase?: boolean;
}

/**
 * A predicate telling whether a posix relative path is protected by one of `patterns` (itself or an ancestor
 * matches).
 * @throws NotsotufError INVALID_ARGUMENT for an invalid pattern (checked here, before any file is touched).
 */
export function createExcludeMatcher(
  patterns: readonly string[],
  options: ExcludeMatcherOptions = {},
): (relPath: string) => boolean {
  const regexes = patterns.map((p) => new RegExp(excludePatternSource(p), options.ignoreCase ? 'i' : ''));
  return (relPath) => regexes.some((r) => r.test(relPath));
}
