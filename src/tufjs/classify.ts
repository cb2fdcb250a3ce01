/**
 * Which notsotuf error code a tuf-js failure means: pure, by error class first.
 *
 * The classes are recognised by the constructor names along the prototype chain, not with `instanceof`: tuf-js 5
 * exports none of its error classes from its index, @tufjs/models only ValueError, and an app may install a second
 * copy of @tufjs/models under tuf-js, whose classes would fail an `instanceof` against ours. (None of them sets
 * `name`, which is always `Error`.)
 *
 * Message text is read only where a class carries several meanings, each known message matched whole, from `^`
 * to `$`: @tufjs/models' ValueError (a keyid that signs twice is a signature problem), and tuf-js's RuntimeError,
 * into whose message the Updater pastes every snapshot and targets failure (`Unable to load snapshot metadata
 * error ${error}`), so that the original class survives only as the word `Error`. Anything else is the class's
 * or the stage's default.
 */
import type { ErrorCode } from '../core/errors.js';

/** Refreshing the metadata (client workflow 5.3–5.6) or downloading one target (5.7). */
export type TufStage = 'refresh' | 'download';

type MessageTable = readonly (readonly [RegExp, ErrorCode])[];

/**
 * `by-stage`: a length or hash mismatch is the target's fault during a download, else the metadata's.
 * `wrapper`: tuf-js's RuntimeError; the error it wraps decides. `messages`: a class with several meanings.
 */
type ClassMeaning =
  | ErrorCode
  | 'by-stage'
  | 'wrapper'
  | { readonly messages: MessageTable; readonly otherwise: ErrorCode };

/**
 * @tufjs/models' ValueError: malformed metadata (an unsupported spec version, a missing field), except a keyid
 * signing twice (Metadata.fromJSON), which would otherwise count one key twice towards a threshold.
 */
const VALUE_ERROR_MESSAGES: MessageTable = [
  [/^multiple signatures found for keyid: [^\n]+$/, 'METADATA_SIGNATURE_INVALID'],
];

/** tuf-js (error.ts) and @tufjs/models (error.ts) classes, looked up from the most specific class up. */
const BY_CLASS: ReadonlyMap<string, ClassMeaning> = new Map<string, ClassMeaning>([
  // 5.3.10, 5.4.4, 5.5.6, 5.6.6: a freeze attack, or a repository nobody refreshed.
  ['ExpiredMetadataError', 'METADATA_EXPIRED'],
  // Also EqualVersionError. 5.3.5, 5.4.3, 5.5.5: a version lower than trusted (or not the one the parent names).
  ['BadVersionError', 'METADATA_ROLLBACK'],
  // 5.3.4, 5.4.2, 5.5.3, 5.6.3: below the signature threshold of the delegating role.
  ['UnsignedMetadataError', 'METADATA_SIGNATURE_INVALID'],
  ['LengthOrHashMismatchError', 'by-stage'],
  // tuf-js's own fetcher: a body longer than the cap (an endless-data attack).
  ['DownloadLengthMismatchError', 'DOWNLOAD_TOO_LARGE'],
  ['DownloadHTTPError', 'DOWNLOAD_FAILED'],
  ['DownloadError', 'DOWNLOAD_FAILED'],
  // A metadata file could not be written to the local cache.
  ['PersistError', 'IO_ERROR'],
  // Malformed metadata: a wrong `_type`, a missing role, an unsupported spec version, a bad key.
  ['RepositoryError', 'METADATA_INVALID'],
  ['ValueError', { messages: VALUE_ERROR_MESSAGES, otherwise: 'METADATA_INVALID' }],
  ['CryptoError', 'METADATA_INVALID'],
  ['RuntimeError', 'wrapper'],
]);

/** The wrappers of tuf-js 5's Updater (`loadSnapshot`, `loadTargets`); the original is the rest of the message. */
const WRAPPER = /^Unable to load (?:snapshot metadata|targets) error ([\s\S]*)$/;

/**
 * What tuf-js and @tufjs/models throw while loading snapshot and targets metadata, as `${error}` writes it (their
 * classes are all named `Error`). Only those whose code differs from the refresh default, METADATA_INVALID.
 */
const WRAPPED_MESSAGES: MessageTable = [
  // ExpiredMetadataError (store.ts updateSnapshot, updateDelegatedTargets).
  [/^Error: [^\n]+\.json is expired$/, 'METADATA_EXPIRED'],
  // BadVersionError: a role's version below the trusted snapshot's, or not the one its parent names.
  [/^Error: New version \d+ of [^\n]+ is less than current version \d+$/, 'METADATA_ROLLBACK'],
  [/^Error: Version \d+ of [^\n]+ does not match snapshot version \d+$/, 'METADATA_ROLLBACK'],
  [/^Error: Snapshot version doesn't match timestamp$/, 'METADATA_ROLLBACK'],
  // UnsignedMetadataError (models metadata.ts verifyDelegate, key.ts).
  [/^Error: [^\n]+ was signed by \d+\/\d+ keys$/, 'METADATA_SIGNATURE_INVALID'],
  [/^Error: no signature for key found in metadata$/, 'METADATA_SIGNATURE_INVALID'],
  [/^Error: no public key found$/, 'METADATA_SIGNATURE_INVALID'],
  [/^Error: failed to verify [^\n]+ signature$/, 'METADATA_SIGNATURE_INVALID'],
  // ValueError of Metadata.fromJSON: one keyid signing twice.
  [/^Error: multiple signatures found for keyid: [^\n]+$/, 'METADATA_SIGNATURE_INVALID'],
  // DownloadLengthMismatchError of tuf-js's own fetcher.
  [/^Error: Max length reached$/, 'DOWNLOAD_TOO_LARGE'],
];

/** The class names of `err`, most specific first: `['EqualVersionError', 'BadVersionError', 'RepositoryError']`. */
export function errorClassNames(err: unknown): string[] {
  const names: string[] = [];
  if (!(err instanceof Error)) return names;
  let proto: unknown = Object.getPrototypeOf(err);
  while (proto && proto !== Error.prototype && proto !== Object.prototype) {
    const name: unknown = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '') names.push(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

/**
 * The original error's text (`Error: …`, `NotsotufError: …`) when `err` is tuf-js's RuntimeError wrapper around a
 * snapshot or targets failure; undefined for any other error.
 */
export function wrappedErrorText(err: unknown): string | undefined {
  if (!(err instanceof Error) || errorClassNames(err)[0] !== 'RuntimeError') return undefined;
  return WRAPPER.exec(err.message)?.[1];
}

function byMessage(text: string, table: MessageTable, otherwise: ErrorCode): ErrorCode {
  for (const [pattern, code] of table) if (pattern.test(text)) return code;
  return otherwise;
}

function stageDefault(stage: TufStage): ErrorCode {
  return stage === 'download' ? 'TARGET_VERIFY_FAILED' : 'METADATA_INVALID';
}

/**
 * The code for an error tuf-js threw during `stage`. The most specific known class decides; a RuntimeError
 * wrapper is decided by the message it wraps; an unknown error (a TypeError or SyntaxError from malformed JSON, a
 * RuntimeError about call order) gets the stage's default: METADATA_INVALID or TARGET_VERIFY_FAILED.
 */
export function classifyTufError(err: unknown, stage: TufStage): ErrorCode {
  for (const name of errorClassNames(err)) {
    const meaning = BY_CLASS.get(name);
    if (meaning === undefined) continue;
    if (meaning === 'by-stage') return stage === 'download' ? 'TARGET_VERIFY_FAILED' : 'METADATA_INVALID';
    if (typeof meaning === 'object')
      return byMessage((err as Error).message, meaning.messages, meaning.otherwise);
    if (meaning !== 'wrapper') return meaning;
    const inner = wrappedErrorText(err);
    if (inner === undefined) break;
    return byMessage(inner, WRAPPED_MESSAGES, 'METADATA_INVALID');
  }
  return stageDefault(stage);
}
