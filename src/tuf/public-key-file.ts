/**
 * The `<name>.pub` file: a securesystemslib public key object as JSON, the format tufup reads and writes.
 * tufup's files also carry `"keyid_hash_algorithms": ["sha256", "sha512"]`; ours leave it out.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { NotsotufError } from '../core/errors.js';

/** A public key as notsotuf uses it: its keyid and raw key. */
export interface PublicKeyInfo {
  /** sha256 hex of the canonical JSON of the key object as stored in the `.pub` file. */
  keyid: string;
  keytype: 'ed25519';
  scheme: 'ed25519';
  /** The raw public key, 64 lowercase hex characters. */
  publicHex: string;
}

/** A securesystemslib public key object, the thing a keyid is the hash of. */
export interface PublicKeyObject {
  keytype: string;
  scheme: string;
  keyid_hash_algorithms?: readonly string[];
  keyval: { public: string };
}

const HEX_32_BYTES = /^[0-9a-f]{64}$/;
const PUBLIC_FIELDS = new Set(['keytype', 'scheme', 'keyid_hash_algorithms', 'keyval']);
const BAD_PUB_HINT =
  'A .pub file must hold {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "<64 hex>"}}.';

/**
 * The keyid of a public key object: sha256 hex of its canonical JSON, taking exactly the fields stored in the file.
 * With `keyid_hash_algorithms` present this reproduces securesystemslib's (and so tufup's) keyids; without it, it is
 * the sha256 of canonical `{keytype, scheme, keyval: {public}}`.
 */
export function computeKeyId(obj: PublicKeyObject): string {
  const hashed: Record<string, unknown> = {
    keytype: obj.keytype,
    scheme: obj.scheme,
    keyval: { public: obj.keyval.public },
  };
  if (obj.keyid_hash_algorithms !== undefined)
    hashed['keyid_hash_algorithms'] = [...obj.keyid_hash_algorithms];
  return createHash('sha256').update(canonicalize(hashed), 'utf8').digest('hex');
}

/**
 * Parses and strictly validates a `.pub` file (only Ed25519; unknown fields and private parts are rejected).
 * @param path Used in error messages only.
 * @throws NotsotufError KEY_INVALID when the text is not a valid Ed25519 public key file.
 */
export function parsePublicKeyFile(text: string, path: string): PublicKeyInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`${path} is not valid JSON.`, path, err);
  }
  if (!isPlainObject(doc)) throw invalid(`${path} is not a JSON object.`, path);
  for (const field of Object.keys(doc)) {
    if (!PUBLIC_FIELDS.has(field)) {
      // A `keyval.private` or stray `keyid` means this is not a plain public key file; better refuse than guess.
      throw invalid(`${path} has an unexpected field "${field}".`, path);
    }
  }
  if (doc['keytype'] !== 'ed25519' || doc['scheme'] !== 'ed25519') {
    throw invalid(`${path} is not an Ed25519 key (only keytype and scheme "ed25519" are supported).`, path);
  }
  const algorithms = doc['keyid_hash_algorithms'];
  if (
    algorithms !== undefined &&
    !(Array.isArray(algorithms) && algorithms.every((a) => typeof a === 'string'))
  ) {
    throw invalid(`${path} has an invalid "keyid_hash_algorithms" (must be a list of names).`, path);
  }
  const keyval = doc['keyval'];
  if (!isPlainObject(keyval) || Object.keys(keyval).length !== 1 || typeof keyval['public'] !== 'string') {
    throw invalid(`${path} must have exactly one field in "keyval": "public".`, path);
  }
  const publicHex = keyval['public'];
  if (!HEX_32_BYTES.test(publicHex)) {
    throw invalid(`${path} has an invalid public key (must be 64 lowercase hex characters).`, path);
  }
  const keyid = computeKeyId({
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: publicHex },
    ...(algorithms === undefined ? {} : { keyid_hash_algorithms: algorithms as string[] }),
  });
  return { keyid, keytype: 'ed25519', scheme: 'ed25519', publicHex };
}

/** securesystemslib's `keyid_hash_algorithms`, part of every keyid tufup computes. */
export const LEGACY_KEYID_HASH_ALGORITHMS: readonly string[] = ['sha256', 'sha512'];

export interface SerializePublicKeyOptions {
  /**
   * Write tufup's form instead (with `keyid_hash_algorithms`, byte for byte as securesystemslib writes it), so that
   * a key imported from tufup keeps its keyid.
   */
  legacy?: boolean | undefined;
}

/**
 * The `.pub` file text for a public key: by default notsotuf's form (pretty JSON plus a newline, no
 * `keyid_hash_algorithms`); with `legacy`, tufup's.
 * @throws NotsotufError KEY_INVALID when `publicHex` is not 64 lowercase hex characters.
 */
export function serializePublicKey(publicHex: string, options: SerializePublicKeyOptions = {}): string {
  if (typeof publicHex !== 'string' || !HEX_32_BYTES.test(publicHex)) {
    throw new NotsotufError('KEY_INVALID', 'An Ed25519 public key must be 64 lowercase hex characters.');
  }
  if (options.legacy) {
    // Python's json.dumps layout (", " and ": " separators, no trailing newline), as tufup writes it.
    const algorithms = LEGACY_KEYID_HASH_ALGORITHMS.map((a) => JSON.stringify(a)).join(', ');
    return (
      `{"keytype": "ed25519", "scheme": "ed25519", "keyid_hash_algorithms": [${algorithms}], ` +
      `"keyval": {"public": "${publicHex}"}}`
    );
  }
  return `${JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } }, null, 2)}\n`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, path: string, cause?: unknown): NotsotufError {
  return new NotsotufError('KEY_INVALID', message, {
    path,
    hint: BAD_PUB_HINT,
    ...(cause === undefined ? {} : { cause }),
  });
}
