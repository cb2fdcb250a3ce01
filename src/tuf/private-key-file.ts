/**
 * Private key files in the three formats notsotuf reads, each in its own module:
 * - `notsotuf-v1` (`private-key-notsotuf-v1.ts`): our encrypted JSON (scrypt + AES-256-GCM), the default for new keys;
 * - `legacy-plain` (`private-key-legacy-plain.ts`): securesystemslib's unencrypted JSON, what tufup writes (and what
 *   we write for `--unencrypted`);
 * - `legacy-encrypted` (`private-key-legacy-encrypted.ts`): securesystemslib's
 *   `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext` (PBKDF2-HMAC-SHA256, AES-256-CTR, encrypt-then-HMAC-SHA256),
 *   read only.
 * This module detects the format and dispatches.
 */
import { isNotsotufError, NotsotufError } from '../core/errors.js';
import { publicHexOf, seedHexOf } from './ed25519.js';
import {
  type DecodeOptions,
  invalid,
  isPlainObject,
  KEYID,
  type PrivateKeyFormat,
  type PrivateKeyMaterial,
  parseJson,
} from './private-key-common.js';
import { decodeLegacyEncrypted, LEGACY_DELIMITER } from './private-key-legacy-encrypted.js';
import { encodeLegacyPlain, materialFromLegacyJson } from './private-key-legacy-plain.js';
import { decodeNotsotufV1, encodeNotsotufV1, FORMAT_MARKER } from './private-key-notsotuf-v1.js';

export type { DecodeOptions, PrivateKeyFormat, PrivateKeyMaterial } from './private-key-common.js';

/** What {@link encodePrivateKeyFile} needs. */
export type PrivateKeyInput = Pick<PrivateKeyMaterial, 'keyid' | 'publicHex' | 'privateKey'>;

export interface EncodeOptions {
  /** With a passphrase the key is written encrypted (`notsotuf-v1`); without, as plain securesystemslib JSON. */
  passphrase?: string | undefined;
  /** scrypt cost N (a power of two between 2^14 and 2^20); lower it only in tests. Default 2^17. */
  scryptN?: number | undefined;
}

/** Key files are a few hundred bytes; refusing big inputs bounds parsing and PBKDF2/HMAC work. */
const MAX_KEY_FILE_CHARS = 64 * 1024;

/** The format of a private key file's text, or `undefined` when it is none of the known ones. Does not validate. */
export function detectPrivateKeyFormat(text: string): PrivateKeyFormat | undefined {
  if (typeof text !== 'string' || text.length > MAX_KEY_FILE_CHARS) return undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const doc = parseJson(trimmed);
    if (!isPlainObject(doc)) return undefined;
    return FORMAT_MARKER in doc ? 'notsotuf-v1' : 'legacy-plain';
  }
  return trimmed.split(LEGACY_DELIMITER).length === 5 ? 'legacy-encrypted' : undefined;
}

/** True when the file needs a passphrase to be read. */
export function isEncryptedKeyFile(text: string): boolean {
  const format = detectPrivateKeyFormat(text);
  return format === 'notsotuf-v1' || format === 'legacy-encrypted';
}

/**
 * Decodes a private key file in any of the supported formats and checks that its seed really yields the stored
 * public key.
 * @throws NotsotufError KEY_INVALID (unreadable or inconsistent file), PASSPHRASE_REQUIRED (encrypted, no
 *   passphrase given), KEY_DECRYPT_FAILED (wrong passphrase or tampered file).
 */
export async function decodePrivateKeyFile(
  text: string,
  options: DecodeOptions,
): Promise<PrivateKeyMaterial> {
  const { path } = options;
  try {
    if (typeof text !== 'string') throw invalid('The key file content is not text.', path);
    if (text.length > MAX_KEY_FILE_CHARS) throw invalid(`${path} is too large to be a key file.`, path);
    const format = detectPrivateKeyFormat(text);
    if (format === undefined) throw invalid(`${path} is not a private key file notsotuf can read.`, path);
    const trimmed = text.trim();
    if (format === 'notsotuf-v1') return await decodeNotsotufV1(parseJson(trimmed), options);
    if (format === 'legacy-encrypted') return await decodeLegacyEncrypted(trimmed, options);
    return materialFromLegacyJson(parseJson(trimmed), 'legacy-plain', path);
  } catch (err) {
    if (isNotsotufError(err)) throw err;
    // Anything else is a bug or a case validation missed; still report it as a bad key file, never a raw error.
    throw invalid(`${path} could not be read as a private key file.`, path, err);
  }
}

/**
 * Encodes a private key file: `notsotuf-v1` when a passphrase is given, securesystemslib plain JSON (exactly as
 * tufup writes it, so tufup can read it) otherwise.
 * @throws NotsotufError KEY_INVALID when `publicHex` does not belong to `privateKey`; PASSPHRASE_REQUIRED for an
 *   empty passphrase; INVALID_ARGUMENT for a bad `scryptN`.
 */
export async function encodePrivateKeyFile(
  key: PrivateKeyInput,
  options: EncodeOptions = {},
): Promise<string> {
  const { keyid, publicHex, privateKey } = key;
  if (!KEYID.test(keyid)) throw new NotsotufError('KEY_INVALID', `Invalid keyid ${JSON.stringify(keyid)}.`);
  if (publicHexOf(privateKey) !== publicHex) {
    throw new NotsotufError('KEY_INVALID', 'The public key does not belong to the private key.', {
      details: { keyid },
    });
  }
  const seedHex = seedHexOf(privateKey);
  if (options.passphrase === undefined) return encodeLegacyPlain(keyid, publicHex, seedHex);
  if (options.passphrase === '') {
    throw new NotsotufError('PASSPHRASE_REQUIRED', 'The passphrase for a new key must not be empty.', {
      hint: 'Choose a passphrase, or write the key unencrypted explicitly.',
    });
  }
  return encodeNotsotufV1(keyid, publicHex, Buffer.from(seedHex, 'hex'), options.passphrase, options.scryptN);
}
