/**
 * The `legacy-plain` private key file: securesystemslib's unencrypted key dict, what tufup writes (and what we
 * write for `--unencrypted`). Its validation is shared with `legacy-encrypted`, whose plaintext is the same dict.
 */
import type { PrivateKeyFormat, PrivateKeyMaterial } from './private-key-common.js';
import {
  expectFields,
  HEX_32_BYTES,
  invalid,
  isPlainObject,
  materialFromSeed,
  publicPartOf,
} from './private-key-common.js';
import { LEGACY_KEYID_HASH_ALGORITHMS } from './public-key-file.js';

/**
 * Python's `json.dumps` of securesystemslib's key dict (", " and ": " separators, insertion order): byte for byte
 * what tufup writes, so tufup reads our unencrypted keys and our files diff cleanly against its own.
 */
export function encodeLegacyPlain(keyid: string, publicHex: string, seedHex: string): string {
  const q = (s: string) => JSON.stringify(s);
  const algorithms = LEGACY_KEYID_HASH_ALGORITHMS.map(q).join(', ');
  return (
    `{"keytype": "ed25519", "scheme": "ed25519", "keyid": ${q(keyid)}, "keyid_hash_algorithms": [${algorithms}], ` +
    `"keyval": {"public": ${q(publicHex)}, "private": ${q(seedHex)}}}`
  );
}

/** Validates securesystemslib's private key dict: keytype, scheme, keyid, keyid_hash_algorithms?, keyval. */
export function materialFromLegacyJson(
  doc: unknown,
  format: PrivateKeyFormat,
  path: string,
): PrivateKeyMaterial {
  if (!isPlainObject(doc)) throw invalid(`${path} is not a JSON key object.`, path);
  expectFields(doc, ['keytype', 'scheme', 'keyid', 'keyid_hash_algorithms', 'keyval'], path);
  const algorithms = doc['keyid_hash_algorithms'];
  if (
    algorithms !== undefined &&
    !(Array.isArray(algorithms) && algorithms.every((a) => typeof a === 'string'))
  ) {
    throw invalid(`${path} has an invalid "keyid_hash_algorithms".`, path);
  }
  const keyval = doc['keyval'];
  if (!isPlainObject(keyval)) throw invalid(`${path} has no "keyval".`, path);
  expectFields(keyval, ['public', 'private'], path);
  const seedHex = keyval['private'];
  if (typeof seedHex !== 'string' || !HEX_32_BYTES.test(seedHex)) {
    throw invalid(`${path} has no valid private key (must be 64 lowercase hex characters).`, path);
  }
  const part = publicPartOf({ ...doc, keyval: { public: keyval['public'] } }, path);
  return materialFromSeed(part.keyid, part.keyval.public, seedHex, format, path);
}
