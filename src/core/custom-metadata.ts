/**
 * The `custom` object of a target in targets.json. tufup keeps the app's own metadata under `user` and its internal
 * facts under `tufup`, and its client reads `custom` that way only when its keys are exactly `user` and `tufup`
 * (any other key set is read as tufup < 0.7's flat shape). So notsotuf's own facts go one level down, in
 * `custom.tufup.notsotuf`, where tufup's client never looks. Repositories written by notsotuf before that change
 * carry them as `custom.notsotuf`; both are read. Everything read here comes from a remote repository, so every
 * field is type-checked before use.
 */

import { describeValue } from './describe-value.js';
import { NotsotufError } from './errors.js';
import { policyFields, type ReleasePolicy, readReleasePolicy } from './release-policy.js';

/** A JSON value that canonical JSON can encode: no floats, no `undefined`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `custom` of an archive target. */
export interface ArchiveCustom {
  user: JsonValue;
  tufup: {
    required: boolean;
    /**
     * Size and sha256 of the uncompressed tar inside the archive (notsotuf only; lets a client check a patch base),
     * and the release policy (rollout, halt, recall, line, minimum version: see release-policy.ts).
     */
    notsotuf?: { tar_size: number; tar_hash: string; [policy: string]: JsonValue };
  };
}

/** `custom` of a patch target; `tar_*` describe the uncompressed tar that applying the patch produces. */
export interface PatchCustom {
  user: null;
  tufup: {
    tar_size: number;
    tar_hash: string;
    tar_hash_algorithm: 'sha256';
    /** The patch codec (notsotuf only); absent means bsdiff4, the only format tufup knows. */
    notsotuf?: { patch: string };
  };
}

/** Input of {@link buildArchiveCustom}. */
export interface ArchiveCustomInput {
  /** The app's own metadata (e.g. `{ changes: [...] }`); must be JSON with integer numbers only. Default null. */
  user?: unknown;
  /** Whether clients must install this release before any later one. */
  required: boolean;
  /** Size of the uncompressed tar; give together with `tarHash`. */
  tarSize?: number;
  /** sha256 (hex) of the uncompressed tar; give together with `tarSize`. */
  tarHash?: string;
  /** Rollout, halt, recall, maintenance line, minimum version; written only with `tarSize`/`tarHash`. */
  policy?: ReleasePolicy;
}

/** Input of {@link buildPatchCustom}. */
export interface PatchCustomInput {
  tarSize: number;
  tarHash: string;
  codec?: string;
}

/** What a client needs from a target's `custom`, whichever shape it came in. */
export interface TargetCustom {
  /** The app's own metadata; `null` when there is none. Untrusted JSON: check it before use. */
  user: unknown;
  required: boolean;
  tarSize?: number;
  /** Lowercase hex. */
  tarHash?: string;
  /** As given by the repository; absent means sha256. */
  tarHashAlgorithm?: string;
  patchCodec?: string;
  /** The release policy of an archive target, when it has one. */
  policy?: ReleasePolicy;
}

const CURRENT_KEYS: ReadonlySet<string> = new Set(['user', 'tufup', 'notsotuf']);
const HASH_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const HEX_RE = /^[0-9a-fA-F]+$/;
const ALGORITHM_RE = /^[A-Za-z0-9_-]{1,32}$/;
const CODEC_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
// Deeper user metadata is surely a mistake, and the bound keeps the recursive copy away from stack limits.
const MAX_USER_DEPTH = 64;

type Fail = (message: string) => never;
type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// Own properties only: metadata keys such as `constructor` or `__proto__` must never reach the prototype chain.
function own(obj: Obj, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function argumentError(message: string): never {
  throw new NotsotufError('INVALID_ARGUMENT', message, {
    hint: 'Custom metadata must be plain JSON (objects, arrays, strings, integers, booleans, null).',
  });
}

function metadataError(targetName: string | undefined): Fail {
  const where = targetName === undefined ? 'a target' : `target ${JSON.stringify(targetName)}`;
  return (message) => {
    throw new NotsotufError('METADATA_INVALID', `Invalid custom metadata of ${where}: ${message}.`, {
      hint: 'The repository metadata is malformed; the publisher must re-publish this release.',
      details: targetName === undefined ? {} : { target: targetName },
    });
  };
}

function checkSize(value: unknown, field: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(`${field} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return value;
}

function checkHash(value: unknown, field: string, algorithm: string, fail: Fail): string {
  const expected = HASH_HEX_LENGTH[algorithm];
  const ok =
    typeof value === 'string' &&
    HEX_RE.test(value) &&
    (expected === undefined ? value.length % 2 === 0 : value.length === expected);
  if (!ok) {
    const length = expected === undefined ? 'an even number of' : String(expected);
    fail(`${field} must be ${length} hex digits (${algorithm})`);
  }
  return value.toLowerCase();
}

function checkCodec(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== 'string' || !CODEC_RE.test(value)) {
    fail(`${field} must be a codec name of lowercase letters, digits, ".", "_" and "-"`);
  }
  return value;
}

/** A plain-JSON deep copy of `value`; throws on anything canonical JSON cannot encode, naming where it is. */
function toJson(value: unknown, path: string, depth: number): JsonValue {
  if (depth > MAX_USER_DEPTH) argumentError(`${path} is nested deeper than ${MAX_USER_DEPTH} levels.`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    // Canonical JSON (and tufup's securesystemslib) has no floats.
    if (!Number.isSafeInteger(value)) argumentError(`${path} is ${value}; only integer numbers are allowed.`);
    return value;
  }
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < value.length; i++) out.push(toJson(value[i], `${path}[${i}]`, depth + 1));
    return out;
  }
  if (isObject(value)) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) argumentError(`${path} is not a plain object.`);
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty, so a `__proto__` key stays a plain data property.
      Object.defineProperty(out, k, {
        value: toJson(v, `${path}.${k}`, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return argumentError(
    `${path} is ${value === undefined ? 'undefined' : `a ${typeof value}`}; it is not JSON.`,
  );
}

function checkTar(tarSize: unknown, tarHash: unknown): { tar_size: number; tar_hash: string } {
  const fail: Fail = (message) => argumentError(`${message}.`);
  return {
    tar_size: checkSize(tarSize, 'tarSize', fail),
    tar_hash: checkHash(tarHash, 'tarHash', 'sha256', fail),
  };
}

/**
 * Builds the `custom` object of an archive target:
 * `{"user": …, "tufup": {"required": …, "notsotuf": {"tar_size": …, "tar_hash": …}}}`.
 * The `notsotuf` part is present only when `tarSize` and `tarHash` are given (both or neither).
 * @throws NotsotufError `INVALID_ARGUMENT` for non-JSON user metadata (floats, `undefined`, class instances, …) or a
 *   bad size/hash.
 */
export function buildArchiveCustom(input: ArchiveCustomInput): ArchiveCustom {
  if (typeof input.required !== 'boolean') argumentError('required must be a boolean.');
  const custom: ArchiveCustom = {
    user: input.user === undefined ? null : toJson(input.user, 'user', 0),
    tufup: { required: input.required },
  };
  const hasSize = input.tarSize !== undefined;
  if (hasSize !== (input.tarHash !== undefined))
    argumentError('Give tarSize and tarHash together, or neither.');
  if (hasSize) {
    custom.tufup.notsotuf = {
      ...checkTar(input.tarSize, input.tarHash),
      ...(policyFields(input.policy) as Record<string, JsonValue>),
    };
  } else if (input.policy && Object.keys(policyFields(input.policy)).length > 0) {
    argumentError('A release policy needs tarSize and tarHash.');
  }
  return custom;
}

/**
 * Builds the `custom` object of a patch target as tufup writes it
 * (`{"user": null, "tufup": {"tar_size", "tar_hash", "tar_hash_algorithm": "sha256"}}`), plus
 * `"notsotuf": {"patch": codec}` inside `tufup` when a codec is named.
 * @throws NotsotufError `INVALID_ARGUMENT` for a bad size, hash or codec name.
 */
export function buildPatchCustom(input: PatchCustomInput): PatchCustom {
  const custom: PatchCustom = {
    user: null,
    tufup: { ...checkTar(input.tarSize, input.tarHash), tar_hash_algorithm: 'sha256' },
  };
  if (input.codec !== undefined) {
    custom.tufup.notsotuf = { patch: checkCodec(input.codec, 'codec', (m) => argumentError(`${m}.`)) };
  }
  return custom;
}

/** Reads the internal fields shared by the `tufup` part and the legacy flat shape. */
function readInternal(obj: Obj, prefix: string, out: TargetCustom, fail: Fail): void {
  const required = own(obj, 'required');
  if (required !== undefined) {
    if (typeof required !== 'boolean') fail(`${prefix}required must be true or false`);
    out.required = required;
  }
  const algorithm = own(obj, 'tar_hash_algorithm');
  if (algorithm !== undefined) {
    if (typeof algorithm !== 'string' || !ALGORITHM_RE.test(algorithm)) {
      fail(`${prefix}tar_hash_algorithm must be a hash algorithm name`);
    }
    out.tarHashAlgorithm = algorithm.toLowerCase();
  }
  const size = own(obj, 'tar_size');
  if (size !== undefined) out.tarSize = checkSize(size, `${prefix}tar_size`, fail);
  const hash = own(obj, 'tar_hash');
  if (hash !== undefined) {
    out.tarHash = checkHash(hash, `${prefix}tar_hash`, out.tarHashAlgorithm ?? 'sha256', fail);
  }
}

/**
 * Reads a `notsotuf` part (`where` is its path for messages); its facts must agree with what was read before (the
 * `tufup` part, or the other place a `notsotuf` part can be) when both carry them.
 */
function readNotsotuf(value: unknown, where: string, out: TargetCustom, fail: Fail): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) fail(`${where} must be an object`);
  const size = own(value, 'tar_size');
  if (size !== undefined) {
    const n = checkSize(size, `${where}.tar_size`, fail);
    if (out.tarSize !== undefined && out.tarSize !== n)
      fail(`${where}.tar_size contradicts the tar size read before`);
    out.tarSize = n;
  }
  const hash = own(value, 'tar_hash');
  if (hash !== undefined) {
    // Our archive tar hash is always sha256.
    const h = checkHash(hash, `${where}.tar_hash`, 'sha256', fail);
    if (out.tarHash !== undefined && out.tarHash !== h)
      fail(`${where}.tar_hash contradicts the tar hash read before`);
    if (out.tarHashAlgorithm !== undefined && out.tarHashAlgorithm !== 'sha256') {
      fail(`${where}.tar_hash is sha256 but tufup.tar_hash_algorithm is not`);
    }
    out.tarHash = h;
  }
  const codec = own(value, 'patch');
  if (codec !== undefined) {
    const c = checkCodec(codec, `${where}.patch`, fail);
    if (out.patchCodec !== undefined && out.patchCodec !== c)
      fail(`${where}.patch contradicts the codec read before`);
    out.patchCodec = c;
  }
  const policy = readReleasePolicy(value, (message) => fail(`${where}.${message}`));
  if (policy) out.policy = policy;
}

/**
 * Reads a target's `custom` object, in the current shape (`user`/`tufup`, notsotuf's facts in `tufup.notsotuf`), the
 * shape earlier notsotuf versions wrote (`notsotuf` beside `user` and `tufup`), or the legacy flat shape of tufup < 0.7. A
 * `custom` with any key besides `user`, `tufup` and `notsotuf` is legacy: it is the user metadata and the internal
 * metadata at once (`{"changes": [...], "required": true}` → user = that object, required = true).
 * `null`/`undefined` give `{ user: null, required: false }`. Unknown keys inside `tufup`/`notsotuf` are ignored, for
 * forward compatibility.
 * @param targetName only for error messages.
 * @throws NotsotufError `METADATA_INVALID` when a known field has the wrong type or form (negative or fractional
 *   size, non-hex hash, non-boolean `required`, …).
 */
export function parseTargetCustom(custom: unknown, targetName?: string): TargetCustom {
  const fail: Fail = metadataError(targetName);
  const out: TargetCustom = { user: null, required: false };
  if (custom === null || custom === undefined) return out;
  if (!isObject(custom)) fail('custom must be an object');
  if (!Object.keys(custom).every((k) => CURRENT_KEYS.has(k))) {
    out.user = custom;
    readInternal(custom, '', out, fail);
    return out;
  }
  const user = own(custom, 'user');
  out.user = user === undefined ? null : user;
  const tufup = own(custom, 'tufup');
  if (tufup !== undefined && tufup !== null) {
    if (!isObject(tufup)) fail('tufup must be an object');
    readInternal(tufup, 'tufup.', out, fail);
    readNotsotuf(own(tufup, 'notsotuf'), 'tufup.notsotuf', out, fail);
  }
  readNotsotuf(own(custom, 'notsotuf'), 'notsotuf', out, fail);
  return out;
}

/**
 * The `custom` of a target entry written by an earlier notsotuf version (`notsotuf` beside `user` and `tufup`),
 * moved to the current shape (inside `tufup`), which tufup's client reads as intended; `undefined` for any other
 * `custom` (already current, tufup's own, legacy flat or malformed: left as it is).
 */
export function upgradeEarlierCustom(custom: unknown): Record<string, unknown> | undefined {
  if (!isObject(custom)) return undefined;
  const keys = Object.keys(custom).sort();
  if (keys.length !== 3 || keys[0] !== 'notsotuf' || keys[1] !== 'tufup' || keys[2] !== 'user')
    return undefined;
  const [tufup, notsotuf] = [own(custom, 'tufup'), own(custom, 'notsotuf')];
  if (!isObject(tufup) || !isObject(notsotuf) || own(tufup, 'notsotuf') !== undefined) return undefined;
  return { user: own(custom, 'user') ?? null, tufup: { ...tufup, notsotuf } };
}
