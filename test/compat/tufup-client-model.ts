/**
 * A model of how the client of tufup 0.10 (the Python tool whose repositories notsotuf writes) reads targets and
 * applies patches: `TargetMeta` (file name and `custom` parsing), `Client.check_for_updates` (which archive, patch or
 * full) and `Patcher.patch_and_verify`. Pure rules over data, in TypeScript, so tests can ask "what would a tufup
 * client do with this targets.json?" without Python. Whatever tufup would raise is a {@link TufupModelError} naming
 * the Python exception; tufup aborts the update on any of them (and renames the downloaded targets `.failed`).
 *
 * Known gaps, none of which touches names notsotuf writes: versions go through notsotuf's PEP 440 parser, which
 * refuses versions longer than 64 characters or with numbers past 2^53 (packaging accepts them); paths are split as
 * POSIX paths; only the common hashlib algorithms are known; a patch whose 8th magic byte is not `0` passes
 * bsdiff4's 7-byte magic check but is refused by notsotuf's applier.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { compareVersions, tryParseVersion, type Version } from '../../src/core/version.js';
import { applyBsdiff4 } from '../../src/patch/bsdiff4-apply.js';

/** The Python exception a model failure stands for. */
export type PythonError =
  | 'TypeError'
  | 'KeyError'
  | 'AttributeError'
  | 'ValueError'
  | 'OSError'
  | 'ZeroDivisionError'
  | 'Exception';

export class TufupModelError extends Error {
  readonly python: PythonError;
  constructor(python: PythonError, message: string, options?: { cause?: unknown }) {
    super(`${python}: ${message}`, options);
    this.name = 'TufupModelError';
    this.python = python;
  }
}

/** One entry of targets.json `signed.targets`, as far as tufup reads it. */
export interface TargetEntry {
  readonly length: number;
  readonly custom?: unknown;
}
export type TargetsMap = Readonly<Record<string, TargetEntry>>;

/** What tufup's `TargetMeta` makes of a target. */
export interface TufupTargetMeta {
  readonly path: string;
  /** `TargetMeta.name`; null when the file name does not match tufup's pattern. */
  readonly name: string | null;
  /** `TargetMeta.version`; null when there is no match or packaging refuses the version. */
  readonly version: Version | null;
  readonly suffix: '.tar.gz' | '.patch' | null;
  /** `TargetMeta.custom` (the user part). */
  readonly user: unknown;
  /** `TargetMeta.custom_internal` (tufup's own part). */
  readonly customInternal: unknown;
}

// tufup's `^(?P<name>[\w-]+)-(?P<version>.+)(?P<suffix>\.tar\.gz|\.patch)$`. Python's `\w` is Unicode letters, digits
// and `_`; its `.` excludes only `\n`; its `$` also matches before a final `\n`.
const FILENAME_RE = /^([\p{L}\p{N}_-]+)-([^\n]+)(\.tar\.gz|\.patch)\n?$/u;

type Dict = Record<string, unknown>;

function isDict(x: unknown): x is Dict {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Python's truthiness of a JSON value. */
export function pyTruthy(x: unknown): boolean {
  if (x === null || x === undefined || x === false || x === 0 || x === '') return false;
  if (Array.isArray(x)) return x.length > 0;
  if (isDict(x)) return Object.keys(x).length > 0;
  return true;
}

function pyType(x: unknown): string {
  if (x === null || x === undefined) return 'NoneType';
  if (typeof x === 'boolean') return 'bool';
  if (typeof x === 'number') return Number.isInteger(x) ? 'int' : 'float';
  if (typeof x === 'string') return 'str';
  return Array.isArray(x) ? 'list' : 'dict';
}

/** `obj[key]` on a JSON value, failing as Python does. */
function pyGetItem(obj: unknown, key: string): unknown {
  if (isDict(obj)) {
    if (!Object.hasOwn(obj, key)) throw new TufupModelError('KeyError', `'${key}'`);
    return obj[key];
  }
  if (Array.isArray(obj))
    throw new TufupModelError('TypeError', 'list indices must be integers or slices, not str');
  if (typeof obj === 'string')
    throw new TufupModelError('TypeError', "string indices must be integers, not 'str'");
  throw new TufupModelError('TypeError', `'${pyType(obj)}' object is not subscriptable`);
}

/** `TargetMeta._get_custom_metadata(key)`, over `custom or dict(user=dict(), tufup=dict())`. */
function customPart(custom: unknown, key: 'user' | 'tufup'): unknown {
  const c = pyTruthy(custom) ? custom : { user: {}, tufup: {} };
  if (!isDict(c)) return {};
  const keys = Object.keys(c);
  // Any other key set is read as the flat shape of tufup < 0.7: the whole dict is both user and internal metadata.
  if (keys.length !== 2 || !keys.includes('user') || !keys.includes('tufup')) return c;
  return c[key] ?? null;
}

/** `pathlib.Path(path).name` (POSIX). */
function filenameOf(path: string): string {
  return (
    path
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .at(-1) ?? ''
  );
}

/** What tufup's `TargetMeta(target_path=path, custom=custom)` reads. */
export function tufupTargetMeta(path: string, custom: unknown): TufupTargetMeta {
  const m = FILENAME_RE.exec(filenameOf(path));
  // packaging strips surrounding whitespace; `Version('')` (no match) is invalid.
  const version = m ? (tryParseVersion(m[2]!.trim()) ?? null) : null;
  return {
    path,
    name: m ? m[1]! : null,
    version,
    suffix: m ? (m[3] as '.tar.gz' | '.patch') : null,
    user: customPart(custom, 'user'),
    customInternal: customPart(custom, 'tufup'),
  };
}

/** `meta.custom_internal and meta.custom_internal.get('required')`, as a boolean. */
export function tufupSeesRequired(meta: TufupTargetMeta): boolean {
  const internal = meta.customInternal;
  if (!pyTruthy(internal)) return false;
  if (!isDict(internal)) {
    throw new TufupModelError('AttributeError', `'${pyType(internal)}' object has no attribute 'get'`);
  }
  return pyTruthy(Object.hasOwn(internal, 'required') ? internal['required'] : null);
}

export interface TufupCheckOptions {
  readonly appName: string;
  readonly currentVersion: string;
  /** The lowest pre-release level the app accepts; null/undefined: finals only. */
  readonly pre?: 'a' | 'b' | 'rc' | null;
  /** false forces a full update. Default true. */
  readonly patch?: boolean;
  readonly ignoreRequired?: boolean;
  /** Whether `<app>-<current>.tar.gz` is in the client's target dir. */
  readonly currentArchiveCached: boolean;
  /** Target file names with a `<name>.failed` in the target dir (patches that failed before). */
  readonly failedPatches?: readonly string[];
}

export interface TufupTarget {
  readonly path: string;
  readonly length: number;
  readonly meta: TufupTargetMeta;
}

export type TufupDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'full'; readonly archive: TufupTarget }
  | {
      readonly kind: 'patch';
      readonly archive: TufupTarget;
      /** In application order (ascending version). */
      readonly patches: readonly TufupTarget[];
      readonly totalPatchSize: number;
    };

const CHANNELS: Readonly<Record<string, readonly string[]>> = {
  a: ['a', 'b', 'rc'],
  b: ['b', 'rc'],
  rc: ['rc'],
};
/** tufup uses patches only while their total size is at most this share of the new archive's size. */
export const TUFUP_MAX_PATCH_RATIO = 0.8;

function versionName(v: Version | null): string {
  return v === null ? 'NoneType' : 'Version';
}

/** tufup's `Client.check_for_updates` over the trusted targets, once metadata is refreshed. */
export function tufupCheckForUpdates(targets: TargetsMap, options: TufupCheckOptions): TufupDecision {
  // The client's own TargetMeta is composed as a file name and parsed back, like any target.
  const current = tufupTargetMeta(`${options.appName}-${options.currentVersion}.tar.gz`, null);
  const newer: TufupTarget[] = [];
  for (const [path, entry] of Object.entries(targets)) {
    const meta = tufupTargetMeta(path, entry.custom);
    if (meta.name !== current.name) continue;
    // `name == app and version > current`: a None version on either side makes `>` raise.
    if (meta.version === null || current.version === null) {
      throw new TufupModelError(
        'TypeError',
        `'>' not supported between instances of '${versionName(meta.version)}' and ` +
          `'${versionName(current.version)}' (target ${JSON.stringify(path)})`,
      );
    }
    if (compareVersions(meta.version, current.version) > 0) newer.push({ path, length: entry.length, meta });
  }
  const ascending = (a: TufupTarget, b: TufupTarget) => compareVersions(a.meta.version!, b.meta.version!);
  const inChannel = (v: Version): boolean => {
    if (!v.pre) return true;
    const levels = options.pre == null ? [] : CHANNELS[options.pre];
    if (levels === undefined) throw new TufupModelError('KeyError', `'${options.pre}'`);
    return levels.includes(v.pre[0]);
  };
  const archives = newer
    .filter((t) => t.meta.suffix === '.tar.gz' && inChannel(t.meta.version!))
    .sort(ascending);
  if (archives.length === 0) return { kind: 'none' };
  const latest = archives.at(-1)!;
  const archive = options.ignoreRequired
    ? latest
    : (archives.find((t) => tufupSeesRequired(t.meta)) ?? latest);
  // Every patch up to the chosen archive, pre-releases included whatever the channel.
  const patches = newer
    .filter((t) => t.meta.suffix === '.patch' && compareVersions(t.meta.version!, archive.meta.version!) <= 0)
    .sort(ascending);
  const totalPatchSize = patches.reduce((sum, t) => sum + t.length, 0);
  const failed = new Set(options.failedPatches ?? []);
  const full = (): boolean => {
    if (options.patch === false || totalPatchSize === 0) return true;
    if (archive.length === 0) throw new TufupModelError('ZeroDivisionError', 'division by zero');
    return (
      totalPatchSize / archive.length > TUFUP_MAX_PATCH_RATIO ||
      !options.currentArchiveCached ||
      patches.some((p) => failed.has(filenameOf(p.path)))
    );
  };
  return full() ? { kind: 'full', archive } : { kind: 'patch', archive, patches, totalPatchSize };
}

// hashlib attribute → node:crypto name, for the algorithms tufup could name.
const HASHLIB: Readonly<Record<string, string>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
};

/** `getattr(hashlib, algorithm)`. */
function hashlibAlgorithm(algorithm: unknown): string {
  if (typeof algorithm !== 'string') throw new TufupModelError('TypeError', 'attribute name must be string');
  const name = Object.hasOwn(HASHLIB, algorithm) ? HASHLIB[algorithm] : undefined;
  if (name === undefined) {
    throw new TufupModelError('AttributeError', `module 'hashlib' has no attribute '${algorithm}'`);
  }
  return name;
}

/** Python's `==` between tufup's computed size (int) or hash (str) and a JSON value. */
function pyEquals(a: number | string, b: unknown): boolean {
  if (typeof a === 'string') return a === b;
  return (typeof b === 'number' || typeof b === 'boolean') && a === Number(b);
}

async function sizeAndHash(path: string, algorithm: string): Promise<{ size: number; hash: string }> {
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { size, hash: hash.digest('hex') };
}

/** bsdiff4's `read_patch` compares only the first 7 bytes of the magic. */
async function checkBsdiff4Magic(patchPath: string): Promise<void> {
  const fh = await open(patchPath, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    if (!head.subarray(0, Math.min(bytesRead, 7)).equals(Buffer.from('BSDIFF4'))) {
      throw new TufupModelError('ValueError', `incorrect magic bsdiff header (${patchPath})`);
    }
  } finally {
    await fh.close();
  }
}

export interface TufupPatchAndVerifyInput {
  /** The cached `<app>-<current>.tar.gz`. */
  readonly currentArchivePath: string;
  /** Patch files in application order (ascending version). */
  readonly patchPaths: readonly string[];
  /** `custom_internal` of the last patch. */
  readonly expected: unknown;
  /** Scratch directory for the intermediate tars; the caller removes it. */
  readonly workDir: string;
}

/**
 * tufup's `Patcher.patch_and_verify`: gunzips the current archive, applies every patch in order with bsdiff4, then
 * checks the result against the last patch's `custom_internal` by dict indexing, in tufup's order
 * (`tar_hash_algorithm`, then `tar_size`, then `tar_hash`).
 * @returns the rebuilt tar (tufup gzips it as `<app>-<new>.tar.gz`), its size and hash.
 */
export async function tufupPatchAndVerify(
  input: TufupPatchAndVerifyInput,
): Promise<{ tarPath: string; size: number; hash: string }> {
  if (input.patchPaths.length === 0) throw new TufupModelError('ValueError', 'no patch targets');
  let tar = join(input.workDir, 'tufup-model-0.tar');
  try {
    await gunzipToFile(input.currentArchivePath, tar);
  } catch (err) {
    throw new TufupModelError('OSError', `gzip could not read ${input.currentArchivePath}`, { cause: err });
  }
  for (const [i, patchPath] of input.patchPaths.entries()) {
    await checkBsdiff4Magic(patchPath);
    const out = join(input.workDir, `tufup-model-${i + 1}.tar`);
    try {
      // No expected size: tufup's bsdiff4 knows none, the check below is tufup's own.
      await applyBsdiff4({ oldPath: tar, patchPath, outPath: out });
    } catch (err) {
      // bsdiff4 and bz2 raise ValueError or OSError on corrupt data; either aborts the update the same way.
      throw new TufupModelError('ValueError', `bsdiff4 could not apply ${patchPath}`, { cause: err });
    }
    tar = out;
  }
  const algorithm = hashlibAlgorithm(pyGetItem(input.expected, 'tar_hash_algorithm'));
  const { size, hash } = await sizeAndHash(tar, algorithm);
  const result = { tar_size: size, tar_hash: hash };
  for (const key of ['tar_size', 'tar_hash'] as const) {
    if (!pyEquals(result[key], pyGetItem(input.expected, key))) {
      throw new TufupModelError('Exception', `verification failed: ${key} mismatch`);
    }
  }
  return { tarPath: tar, size, hash };
}
