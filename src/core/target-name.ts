/**
 * Target file names, `<app>-<version><suffix>`, as tufup writes and reads them. The name is the only place a target's
 * version lives, so parsing must be unambiguous and must agree with tufup's greedy rule.
 */

import { describeValue } from './describe-value.js';
import { NotsotufError } from './errors.js';
import { parseVersion, tryParseVersion, type Version } from './version.js';

/**
 * Suffixes of full archives. A tuple so that more formats (e.g. `.zip`) can be added later without changing callers;
 * keep longer suffixes before shorter ones that end them.
 */
export const ARCHIVE_SUFFIXES = ['.tar.gz'] as const;

/** An archive suffix notsotuf knows. */
export type ArchiveSuffix = (typeof ARCHIVE_SUFFIXES)[number];

/** Suffix of a patch from the previous archive to this version. */
export const PATCH_SUFFIX = '.patch';

/** Longest app name accepted. */
export const MAX_APP_NAME_LENGTH = 100;

/** What a target file is. */
export type TargetKind = 'archive' | 'patch';

/** A parsed target file name. */
export interface TargetName {
  /** App name, e.g. `my_app` or `my-app-linux-x64`. */
  app: string;
  version: Version;
  kind: TargetKind;
  /** `.tar.gz` or `.patch`. */
  suffix: string;
  /** The full target name as given. */
  name: string;
}

// No dots: a dot in the app name would make `<app>-<version>` ambiguous. No leading `-`: it reads as a CLI option.
const APP_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const PLATFORM_RE = /^[a-z0-9]+-[a-z0-9]+$/;
// `!` (epoch) and `+` (local label) can appear in versions; anything else, notably `/`, `\` and `%`, cannot.
const TARGET_CHARS_RE = /^[A-Za-z0-9._+!-]+$/;

function isValidAppName(name: string): boolean {
  return name.length <= MAX_APP_NAME_LENGTH && APP_NAME_RE.test(name);
}

/** True when `suffix` is one of {@link ARCHIVE_SUFFIXES}. */
export function isArchiveSuffix(suffix: string): suffix is ArchiveSuffix {
  return (ARCHIVE_SUFFIXES as readonly string[]).includes(suffix);
}

/**
 * Checks an app name: ASCII letters, digits, `_` and `-`, not starting with `-`, at most 100 characters.
 * @returns the name unchanged.
 * @throws NotsotufError `APP_NAME_INVALID`.
 */
export function validateAppName(name: string): string {
  if (typeof name === 'string' && isValidAppName(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name) : describeValue(name);
  let reason = 'only letters, digits, "_" and "-" are allowed';
  if (typeof name !== 'string') reason = 'it must be a string';
  else if (name.length === 0) reason = 'it is empty';
  else if (name.length > MAX_APP_NAME_LENGTH) reason = `it is longer than ${MAX_APP_NAME_LENGTH} characters`;
  else if (name.startsWith('-')) reason = 'it must not start with "-"';
  else if (name.includes('.')) reason = 'dots are not allowed (they would make target names ambiguous)';
  throw new NotsotufError('APP_NAME_INVALID', `Invalid app name ${shown}: ${reason}.`, {
    hint: 'Use letters, digits, "_" and "-" only, e.g. my_app or my-app (at most 100 characters).',
    details: { app: name },
  });
}

/**
 * The app name for one platform's builds: `<app>-<os>-<arch>`, e.g. `my_app-linux-x64`.
 * @param platform `<os>-<arch>` in lowercase letters and digits, e.g. `linux-x64`, `win32-arm64`, `darwin-x64`.
 * @throws NotsotufError `PLATFORM_INVALID` for a malformed platform, `APP_NAME_INVALID` for a bad app name or a
 *   combined name that is too long.
 */
export function platformAppName(app: string, platform: string): string {
  validateAppName(app);
  if (typeof platform !== 'string' || !PLATFORM_RE.test(platform)) {
    throw new NotsotufError('PLATFORM_INVALID', `Invalid platform ${JSON.stringify(platform)}.`, {
      hint: 'Use <os>-<arch> in lowercase, e.g. linux-x64, win32-arm64 or darwin-x64 (process.platform + "-" + process.arch).',
      details: { platform },
    });
  }
  return validateAppName(`${app}-${platform}`);
}

/** Splits off a known suffix; archives are tried before the patch suffix (they cannot overlap). */
function splitSuffix(name: string): { stem: string; kind: TargetKind; suffix: string } | undefined {
  for (const suffix of ARCHIVE_SUFFIXES) {
    if (name.endsWith(suffix)) return { stem: name.slice(0, -suffix.length), kind: 'archive', suffix };
  }
  if (name.endsWith(PATCH_SUFFIX)) {
    return { stem: name.slice(0, -PATCH_SUFFIX.length), kind: 'patch', suffix: PATCH_SUFFIX };
  }
  return undefined;
}

/**
 * Parses `<app>-<version><suffix>`. Greedy like tufup: the app name takes as much as it can, so the version is what
 * follows the last `-` that leaves both a valid app name and a valid version (`my-app-2-1.0.tar.gz` → `my-app-2`,
 * `1.0`).
 * @returns `undefined` for anything else, including names with a directory part or characters outside
 *   `[A-Za-z0-9._+!-]`; never throws.
 */
export function parseTargetName(name: string): TargetName | undefined {
  if (typeof name !== 'string' || !TARGET_CHARS_RE.test(name)) return undefined;
  const split = splitSuffix(name);
  if (!split) return undefined;
  const { stem, kind, suffix } = split;
  for (let dash = stem.lastIndexOf('-'); dash > 0; dash = stem.lastIndexOf('-', dash - 1)) {
    const app = stem.slice(0, dash);
    if (!isValidAppName(app)) continue;
    const version = tryParseVersion(stem.slice(dash + 1));
    if (version) return { app, version, kind, suffix, name };
  }
  return undefined;
}

/**
 * Formats a target name from its parts, always with the normalized version (`1.0-RC1` → `my_app-1.0rc1.tar.gz`), so
 * names written by notsotuf parse back to the same parts.
 * @param suffix defaults to `.tar.gz` for archives; must be `.patch` for patches.
 * @throws NotsotufError `APP_NAME_INVALID`, `VERSION_INVALID`, or `TARGET_NAME_INVALID` for a suffix that does not
 *   fit `kind`.
 */
export function formatTargetName(
  app: string,
  version: Version | string,
  kind: TargetKind,
  suffix?: string,
): string {
  validateAppName(app);
  const v = typeof version === 'string' ? parseVersion(version) : version;
  let sfx: string;
  if (kind === 'archive') {
    sfx = suffix ?? ARCHIVE_SUFFIXES[0];
    if (!isArchiveSuffix(sfx)) {
      throw new NotsotufError('TARGET_NAME_INVALID', `Unsupported archive suffix ${JSON.stringify(sfx)}.`, {
        hint: `Supported archive suffixes: ${ARCHIVE_SUFFIXES.join(', ')}.`,
        details: { suffix: sfx },
      });
    }
  } else if (kind === 'patch') {
    sfx = suffix ?? PATCH_SUFFIX;
    if (sfx !== PATCH_SUFFIX) {
      throw new NotsotufError('TARGET_NAME_INVALID', `Unsupported patch suffix ${JSON.stringify(sfx)}.`, {
        hint: `Patches always end in ${PATCH_SUFFIX}.`,
        details: { suffix: sfx },
      });
    }
  } else {
    throw new NotsotufError('TARGET_NAME_INVALID', `Unknown target kind ${JSON.stringify(kind)}.`, {
      hint: 'Use "archive" or "patch".',
      details: { kind },
    });
  }
  return `${app}-${v.normalized}${sfx}`;
}
