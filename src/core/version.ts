/**
 * PEP 440 versions, as the Python tool tufup (through `packaging`) reads them, plus semver input normalised to
 * PEP 440. Versions appear in target file names, so parsing and ordering must match tufup exactly: a client that
 * orders `3.0rc1` after `3.0` would offer a downgrade as an update.
 */

import { describeValue } from './describe-value.js';
import { NotsotufError } from './errors.js';

/** A pre-release level, lowest first: alpha, beta, release candidate. */
export type PreReleaseLevel = 'a' | 'b' | 'rc';

/** A parsed version. All fields are frozen; `normalized` is the canonical PEP 440 spelling. */
export interface Version {
  /** The input exactly as given. */
  readonly raw: string;
  /** Canonical PEP 440 form, as python `packaging` prints it (`1.0-RC1` → `1.0rc1`). */
  readonly normalized: string;
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre?: readonly [PreReleaseLevel, number];
  readonly post?: number;
  readonly dev?: number;
  /** Local label without the `+`, lowercased, segments joined by `.` (`+Ubuntu-01` → `ubuntu.1`). */
  readonly local?: string;
}

/** Longest version string accepted; a bound keeps parsing and file names sane on hostile input. */
export const MAX_VERSION_LENGTH = 64;

// The regex of python `packaging` (VERSION_PATTERN), anchored; flag `i` because PEP 440 is case-insensitive.
const PEP440_BODY =
  'v?' +
  '(?:(?<epoch>[0-9]+)!)?' +
  '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
  '(?<pre>[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
  '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
  '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
  '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?';
const PEP440_RE = new RegExp(`^${PEP440_BODY}$`, 'i');
// Same pattern unanchored at the end: finds the valid prefix, to tell the user where the version goes wrong.
const PEP440_PREFIX_RE = new RegExp(`^${PEP440_BODY}`, 'i');

// semver 2.0 grammar (loosely: leading zeros tolerated), used only when the input is not PEP 440.
const SEMVER_RE =
  /^v?(?<major>[0-9]+)\.(?<minor>[0-9]+)\.(?<patch>[0-9]+)(?:-(?<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const LOCAL_RE = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/i;
const SEMVER_PRE_TAGS: Readonly<Record<string, PreReleaseLevel>> = { alpha: 'a', beta: 'b', rc: 'rc' };
const PRE_SPELLINGS: Readonly<Record<string, PreReleaseLevel>> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};
const HINT =
  'Use a PEP 440 version such as 1.2.0, 1.2.0rc1, 1.2.0.post1 or 1.2.0.dev3 ' +
  '(semver 1.2.0-rc.1 / -beta.2 / -alpha.1 / -dev.3 is accepted too).';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fail(input: string, reason: string): never {
  throw new NotsotufError('VERSION_INVALID', `Invalid version ${JSON.stringify(input)}: ${reason}.`, {
    hint: HINT,
    details: { version: input },
  });
}

/** Parses a run of digits; numbers past 2^53 would silently lose precision and break ordering, so refuse them. */
function toInt(input: string, digits: string): number {
  if (BigInt(digits) > MAX_SAFE) fail(input, `number ${digits} is larger than ${Number.MAX_SAFE_INTEGER}`);
  return Number(digits);
}

/** Local label normalised like `packaging`: lowercase, `-`/`_` become `.`, numeric segments lose leading zeros. */
function normalizeLocal(input: string, local: string): string {
  return local
    .toLowerCase()
    .split(/[-_.]/)
    .map((seg) => (/^[0-9]+$/.test(seg) ? String(toInt(input, seg)) : seg))
    .join('.');
}

interface Parts {
  epoch: number;
  release: number[];
  pre?: [PreReleaseLevel, number];
  post?: number;
  dev?: number;
  local?: string;
}

/** Canonical text of version parts, the same as `str(packaging.version.Version(...))`. */
function formatParts(p: Parts): string {
  let s = p.epoch === 0 ? '' : `${p.epoch}!`;
  s += p.release.join('.');
  if (p.pre) s += `${p.pre[0]}${p.pre[1]}`;
  if (p.post !== undefined) s += `.post${p.post}`;
  if (p.dev !== undefined) s += `.dev${p.dev}`;
  if (p.local !== undefined) s += `+${p.local}`;
  return s;
}

function build(raw: string, p: Parts): Version {
  // Absent parts are left out rather than set to undefined, so Versions compare cleanly with deepEqual.
  const v: {
    -readonly [K in keyof Version]: Version[K];
  } = { raw, normalized: formatParts(p), epoch: p.epoch, release: Object.freeze([...p.release]) };
  // Normalizing can lengthen a version (`1ar` → `1a0.dev0`…); target names must parse back, so the bound holds here too.
  if (v.normalized.length > MAX_VERSION_LENGTH) {
    fail(raw, `its normal form ${v.normalized} is longer than ${MAX_VERSION_LENGTH} characters`);
  }
  if (p.pre) v.pre = Object.freeze([p.pre[0], p.pre[1]] as const);
  if (p.post !== undefined) v.post = p.post;
  if (p.dev !== undefined) v.dev = p.dev;
  if (p.local !== undefined) v.local = p.local;
  return Object.freeze(v);
}

function fromPep440(input: string, g: Record<string, string | undefined>): Parts {
  const p: Parts = {
    epoch: g['epoch'] === undefined ? 0 : toInt(input, g['epoch']),
    release: (g['release'] ?? '').split('.').map((d) => toInt(input, d)),
  };
  const preL = g['preL'];
  if (preL !== undefined) {
    p.pre = [
      PRE_SPELLINGS[preL.toLowerCase()] ?? 'rc',
      g['preN'] === undefined ? 0 : toInt(input, g['preN']),
    ];
  }
  // `1.0-1` is an implicit post-release; `1.0.post` means post0.
  const postN = g['postN1'] ?? g['postN2'];
  if (g['post'] !== undefined) p.post = postN === undefined ? 0 : toInt(input, postN);
  if (g['dev'] !== undefined) p.dev = g['devN'] === undefined ? 0 : toInt(input, g['devN']);
  if (g['local'] !== undefined) p.local = normalizeLocal(input, g['local']);
  return p;
}

/**
 * Maps a semver pre-release (`rc.1`, `beta.2`, `alpha`, `dev.3`, `rc.1.dev.2`) to PEP 440 parts.
 * Only tags with a PEP 440 meaning are taken: guessing an order for `x.7.z` would let releases sort wrongly.
 */
function semverPre(input: string, pre: string, p: Parts): void {
  const ids = pre.split('.');
  let i = 0;
  const num = (): number => {
    const id = ids[i];
    if (id !== undefined && /^[0-9]+$/.test(id)) {
      i++;
      return toInt(input, id);
    }
    return 0;
  };
  const first = ids[0]?.toLowerCase() ?? '';
  const level = SEMVER_PRE_TAGS[first];
  if (level !== undefined) {
    i++;
    p.pre = [level, num()];
  }
  if (ids[i]?.toLowerCase() === 'dev') {
    i++;
    p.dev = num();
  }
  if (i < ids.length) {
    fail(
      input,
      `semver pre-release tag ${JSON.stringify(ids[i])} is not supported; ` +
        'supported tags are alpha, beta, rc and dev, each optionally followed by .N (e.g. 1.2.3-rc.1)',
    );
  }
}

function fromSemver(input: string, g: Record<string, string | undefined>): Parts {
  const p: Parts = {
    epoch: 0,
    release: [g['major'], g['minor'], g['patch']].map((d) => toInt(input, d ?? '0')),
  };
  if (g['pre'] !== undefined) semverPre(input, g['pre'], p);
  const meta = g['build'];
  if (meta !== undefined) {
    if (!LOCAL_RE.test(meta)) {
      fail(input, `semver build metadata ${JSON.stringify(meta)} cannot be a PEP 440 local label`);
    }
    p.local = normalizeLocal(input, meta);
  }
  return p;
}

/** Best-effort precise reason for an input that is neither PEP 440 nor semver. */
function explain(input: string): string {
  const bad = /[^0-9A-Za-z.!+_-]/.exec(input);
  if (bad) return `character ${JSON.stringify(bad[0])} at position ${bad.index} is not allowed in a version`;
  if (!/^v?[0-9]/i.test(input)) return 'a version must start with a number (optionally preceded by "v")';
  const prefix = PEP440_PREFIX_RE.exec(input)?.[0] ?? '';
  const rest = input.slice(prefix.length);
  if (prefix.length > 0 && rest.length > 0) {
    return `unexpected ${JSON.stringify(rest)} after ${JSON.stringify(prefix)}`;
  }
  return 'not a PEP 440 version';
}

/**
 * Parses a PEP 440 version (epochs, pre/post/dev releases, local labels, alternate spellings, leading `v`) or a
 * semver version with an `alpha`/`beta`/`rc`/`dev` pre-release, and normalises it to canonical PEP 440.
 *
 * PEP 440 takes precedence where both grammars apply: `1.0.0-1` is the post-release `1.0.0.post1`, as tufup reads it.
 *
 * @throws NotsotufError `VERSION_INVALID` with the precise reason and `details.version`.
 */
export function parseVersion(input: string): Version {
  if (typeof input !== 'string') fail(describeValue(input), 'a version must be a string');
  if (input.length === 0) fail(input, 'the version is empty');
  if (input.length > MAX_VERSION_LENGTH) {
    fail(input.slice(0, MAX_VERSION_LENGTH) + '…', `longer than ${MAX_VERSION_LENGTH} characters`);
  }
  // `packaging` strips whitespace; we refuse it, since a version with spaces in a file name is a mistake upstream.
  if (input.trim() !== input) fail(input, 'leading or trailing whitespace');
  const pep = PEP440_RE.exec(input);
  if (pep?.groups) return build(input, fromPep440(input, pep.groups));
  const sem = SEMVER_RE.exec(input);
  if (sem?.groups) return build(input, fromSemver(input, sem.groups));
  return fail(input, explain(input));
}

/** Like {@link parseVersion} but returns `undefined` instead of throwing. */
export function tryParseVersion(input: string): Version | undefined {
  try {
    return parseVersion(input);
  } catch (err) {
    if (err instanceof NotsotufError) return undefined;
    throw err;
  }
}

// Sort keys follow `packaging._cmpkey`: -Infinity/+Infinity stand in for absent parts so that
// `1.0.dev0 < 1.0a0 < 1.0 < 1.0.post0` and `1.0a1.dev0 < 1.0a1` fall out of a plain tuple comparison.
const PRE_RANK: Readonly<Record<PreReleaseLevel, number>> = { a: 0, b: 1, rc: 2 };

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRelease(a: readonly number[], b: readonly number[]): number {
  // Trailing zeros are insignificant: 1.0 == 1.0.0.
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(a[i] ?? 0, b[i] ?? 0);
    if (c !== 0) return c;
  }
  return 0;
}

function preKey(v: Version): [number, number] {
  if (v.pre) return [PRE_RANK[v.pre[0]], v.pre[1]];
  // A dev release of a final (1.0.dev0) sorts before every pre-release of it.
  if (v.post === undefined && v.dev !== undefined) return [-Infinity, 0];
  return [Infinity, 0];
}

function cmpLocal(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const sa = a.split('.');
  const sb = b.split('.');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const x = sa[i] ?? '';
    const y = sb[i] ?? '';
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    // Numeric segments sort above alphanumeric ones, and numerically among themselves.
    let c: number;
    if (xn && yn) c = cmpNum(Number(x), Number(y));
    else if (xn !== yn) c = xn ? 1 : -1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return cmpNum(sa.length, sb.length);
}

/** PEP 440 ordering: negative when `a < b`, zero when equal (`1.0` equals `1.0.0`), positive when `a > b`. */
export function compareVersions(a: Version, b: Version): number {
  const [pa, pb] = [preKey(a), preKey(b)];
  return (
    cmpNum(a.epoch, b.epoch) ||
    cmpRelease(a.release, b.release) ||
    cmpNum(pa[0], pb[0]) ||
    cmpNum(pa[1], pb[1]) ||
    cmpNum(a.post ?? -Infinity, b.post ?? -Infinity) ||
    cmpNum(a.dev ?? Infinity, b.dev ?? Infinity) ||
    cmpLocal(a.local, b.local)
  );
}

/** True when `a` and `b` are the same PEP 440 version (`1.0` and `1.0.0` are). */
export function versionsEqual(a: Version, b: Version): boolean {
  return compareVersions(a, b) === 0;
}

/**
 * True for alpha, beta and release-candidate versions only. Dev, post and local versions count as finals for update
 * channels, as in tufup.
 */
export function isPreRelease(v: Version): boolean {
  return v.pre !== undefined;
}

/** The pre-release level (`'a'`, `'b'` or `'rc'`), or `undefined` for a final. */
export function preReleaseLevel(v: Version): PreReleaseLevel | undefined {
  return v.pre?.[0];
}
