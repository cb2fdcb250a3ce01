/**
 * Private key files in the three formats notsotuf reads:
 * - `notsotuf-v1`: our encrypted JSON (scrypt + AES-256-GCM), the default for new keys;
 * - `legacy-plain`: securesystemslib's unencrypted JSON, what tufup writes (and what we write for `--unencrypted`);
 * - `legacy-encrypted`: securesystemslib's `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext` (PBKDF2-HMAC-SHA256,
 *   AES-256-CTR, encrypt-then-HMAC-SHA256), read only.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  type KeyObject,
  pbkdf2,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { canonicalize } from '@tufjs/canonical-json';
import { isNotsotufError, NotsotufError } from '../core/errors.js';
import { privateKeyFromSeed, publicHexOf, seedHexOf } from './ed25519.js';
import { LEGACY_KEYID_HASH_ALGORITHMS } from './public-key-file.js';

/** The on-disk format of a private key file. */
export type PrivateKeyFormat = 'notsotuf-v1' | 'legacy-plain' | 'legacy-encrypted';

/** A decoded private key. */
export interface PrivateKeyMaterial {
  /** The keyid exactly as the file stores it (never recomputed: tufup's keyids cannot be recomputed from metadata). */
  keyid: string;
  /** The raw public key, 64 lowercase hex characters. */
  publicHex: string;
  privateKey: KeyObject;
  /** The format the key was read from. */
  format: PrivateKeyFormat;
}

/** What {@link encodePrivateKeyFile} needs. */
export type PrivateKeyInput = Pick<PrivateKeyMaterial, 'keyid' | 'publicHex' | 'privateKey'>;

export interface DecodeOptions {
  /** The file the text came from, for error messages. */
  path: string;
  /** Needed for encrypted files; ignored for plain ones. */
  passphrase?: string | undefined;
}

export interface EncodeOptions {
  /** With a passphrase the key is written encrypted (`notsotuf-v1`); without, as plain securesystemslib JSON. */
  passphrase?: string | undefined;
  /** scrypt cost N (a power of two between 2^14 and 2^20); lower it only in tests. Default 2^17. */
  scryptN?: number | undefined;
}

const scryptAsync = promisify(scrypt) as (
  password: Uint8Array,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

const FORMAT_MARKER = 'notsotuf_private_key';
const DEFAULT_SCRYPT_N = 2 ** 17;
const MIN_SCRYPT_N = 2 ** 14;
const MAX_SCRYPT_N = 2 ** 20;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SEED_BYTES = 32;
/** securesystemslib's delimiter between the hex fields of an encrypted key file. */
const LEGACY_DELIMITER = '@@@@';
/** securesystemslib's default is 100,000; the cap keeps a hostile file from stalling us for minutes. */
const MAX_LEGACY_ITERATIONS = 10_000_000;
/** Key files are a few hundred bytes; refusing big inputs bounds parsing and PBKDF2/HMAC work. */
const MAX_KEY_FILE_CHARS = 64 * 1024;

const HEX_32_BYTES = /^[0-9a-f]{64}$/;
/** sha256 or sha512 hex: the keyid forms securesystemslib produces. */
const KEYID = /^[0-9a-f]{64}(?:[0-9a-f]{64})?$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const DECIMAL = /^[1-9][0-9]{0,15}$/;

const HINT_DAMAGED =
  'The key file is damaged or not a notsotuf/tufup private key file; restore it from your backup.';
const HINT_WRONG_PASSPHRASE =
  'Check the passphrase (it is case-sensitive); if the file was edited, restore it from a backup.';

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

// ---------------------------------------------------------------------------------------------------------------
// notsotuf-v1

interface PublicPart {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyid: string;
  keyval: { public: string };
}

/** The additional authenticated data: binds the ciphertext to the public part, so swapping that part is detected. */
function aadOf(part: PublicPart): Buffer {
  return Buffer.from(canonicalize(part), 'utf8');
}

async function encodeNotsotufV1(
  keyid: string,
  publicHex: string,
  seed: Buffer,
  passphrase: string,
  scryptN = DEFAULT_SCRYPT_N,
): Promise<string> {
  if (!isAllowedScryptN(scryptN)) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `scrypt N must be a power of two from 2^14 to 2^20, got ${scryptN}.`,
    );
  }
  const part: PublicPart = { keytype: 'ed25519', scheme: 'ed25519', keyid, keyval: { public: publicHex } };
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(GCM_IV_BYTES);
  const key = await deriveScryptKey(passphrase, salt, scryptN);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aadOf(part));
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  const doc = {
    [FORMAT_MARKER]: 1,
    ...part,
    kdf: { name: 'scrypt', N: scryptN, r: SCRYPT_R, p: SCRYPT_P, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function decodeNotsotufV1(doc: unknown, options: DecodeOptions): Promise<PrivateKeyMaterial> {
  const { path } = options;
  if (!isPlainObject(doc)) throw invalid(`${path} is not a JSON object.`, path);
  if (doc[FORMAT_MARKER] !== 1) {
    throw invalid(
      `${path} is a notsotuf key file of an unsupported version.`,
      path,
      undefined,
      'Upgrade notsotuf.',
    );
  }
  expectFields(
    doc,
    [FORMAT_MARKER, 'keytype', 'scheme', 'keyid', 'keyval', 'kdf', 'cipher', 'ciphertext'],
    path,
  );
  const part = publicPartOf(doc, path);

  const kdf = doc['kdf'];
  if (!isPlainObject(kdf) || kdf['name'] !== 'scrypt')
    throw invalid(`${path}: unsupported key derivation.`, path);
  expectFields(kdf, ['name', 'N', 'r', 'p', 'salt'], path);
  const { N, r, p } = kdf;
  // The file chooses the cost; bounding it keeps a hostile file from making us allocate gigabytes or spin for hours.
  if (!isAllowedScryptN(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw invalid(`${path}: scrypt parameters out of the allowed range (N 2^14..2^20, r 8, p 1).`, path);
  }
  const salt = base64Field(kdf['salt'], SALT_BYTES, 'kdf.salt', path);

  const cipherInfo = doc['cipher'];
  if (!isPlainObject(cipherInfo) || cipherInfo['name'] !== 'aes-256-gcm') {
    throw invalid(`${path}: unsupported cipher.`, path);
  }
  expectFields(cipherInfo, ['name', 'iv', 'tag'], path);
  const iv = base64Field(cipherInfo['iv'], GCM_IV_BYTES, 'cipher.iv', path);
  const tag = base64Field(cipherInfo['tag'], GCM_TAG_BYTES, 'cipher.tag', path);
  const ciphertext = base64Field(doc['ciphertext'], SEED_BYTES, 'ciphertext', path);

  const passphrase = requirePassphrase(options);
  const key = await deriveScryptKey(passphrase, salt, N);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aadOf(part));
  decipher.setAuthTag(tag);
  let seed: Buffer;
  try {
    seed = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (err) {
    throw decryptFailed(path, err);
  }
  return materialFromSeed(part.keyid, part.keyval.public, seed.toString('hex'), 'notsotuf-v1', path);
}

function publicPartOf(doc: Record<string, unknown>, path: string): PublicPart {
  if (doc['keytype'] !== 'ed25519' || doc['scheme'] !== 'ed25519') {
    throw invalid(`${path} is not an Ed25519 key (only keytype and scheme "ed25519" are supported).`, path);
  }
  const keyid = doc['keyid'];
  if (typeof keyid !== 'string' || !KEYID.test(keyid)) throw invalid(`${path} has an invalid keyid.`, path);
  const keyval = doc['keyval'];
  if (!isPlainObject(keyval)) throw invalid(`${path} has no "keyval".`, path);
  expectFields(keyval, ['public'], path);
  const publicHex = keyval['public'];
  if (typeof publicHex !== 'string' || !HEX_32_BYTES.test(publicHex)) {
    throw invalid(`${path} has an invalid public key (must be 64 lowercase hex characters).`, path);
  }
  return { keytype: 'ed25519', scheme: 'ed25519', keyid, keyval: { public: publicHex } };
}

function isAllowedScryptN(n: unknown): n is number {
  return (
    typeof n === 'number' &&
    Number.isSafeInteger(n) &&
    n >= MIN_SCRYPT_N &&
    n <= MAX_SCRYPT_N &&
    (n & (n - 1)) === 0
  );
}

async function deriveScryptKey(passphrase: string, salt: Uint8Array, n: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default 32 MiB limit is below that for N = 2^17, so allow twice the need.
  const maxmem = 2 * 128 * n * SCRYPT_R;
  return scryptAsync(Buffer.from(passphrase, 'utf8'), salt, 32, { N: n, r: SCRYPT_R, p: SCRYPT_P, maxmem });
}

// ---------------------------------------------------------------------------------------------------------------
// securesystemslib legacy formats

/**
 * Python's `json.dumps` of securesystemslib's key dict (", " and ": " separators, insertion order): byte for byte
 * what tufup writes, so tufup reads our unencrypted keys and our files diff cleanly against its own.
 */
function encodeLegacyPlain(keyid: string, publicHex: string, seedHex: string): string {
  const q = (s: string) => JSON.stringify(s);
  const algorithms = LEGACY_KEYID_HASH_ALGORITHMS.map(q).join(', ');
  return (
    `{"keytype": "ed25519", "scheme": "ed25519", "keyid": ${q(keyid)}, "keyid_hash_algorithms": [${algorithms}], ` +
    `"keyval": {"public": ${q(publicHex)}, "private": ${q(seedHex)}}}`
  );
}

async function decodeLegacyEncrypted(text: string, options: DecodeOptions): Promise<PrivateKeyMaterial> {
  const { path } = options;
  const [saltHex, iterationsText, hmacHex, ivHex, ciphertextHex] = text.split(LEGACY_DELIMITER) as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!HEX.test(saltHex) || !HEX.test(hmacHex) || !HEX.test(ivHex) || !HEX.test(ciphertextHex)) {
    throw invalid(`${path} is not a valid securesystemslib encrypted key file (bad hex field).`, path);
  }
  if (!DECIMAL.test(iterationsText) || Number(iterationsText) > MAX_LEGACY_ITERATIONS) {
    throw invalid(
      `${path}: PBKDF2 iteration count ${JSON.stringify(iterationsText.slice(0, 20))} is not between 1 and ${MAX_LEGACY_ITERATIONS}.`,
      path,
    );
  }
  const iterations = Number(iterationsText);
  const salt = Buffer.from(saltHex, 'hex');
  const storedHmac = Buffer.from(hmacHex, 'hex');
  const iv = Buffer.from(ivHex, 'hex');
  const ciphertext = Buffer.from(ciphertextHex, 'hex');
  if (storedHmac.length !== 32 || iv.length !== 16) {
    throw invalid(`${path} is not a valid securesystemslib encrypted key file (HMAC or IV size).`, path);
  }

  const passphrase = requirePassphrase(options);
  const key = await pbkdf2Async(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  // Encrypt-then-MAC: authenticate the ciphertext before decrypting anything; compare in constant time.
  const computedHmac = createHmac('sha256', key).update(ciphertext).digest();
  if (!timingSafeEqual(computedHmac, storedHmac)) throw decryptFailed(path);
  const decipher = createDecipheriv('aes-256-ctr', key, iv);
  const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  const doc = parseJson(plaintext);
  if (doc === undefined) throw invalid(`${path} decrypted, but the key inside is not valid JSON.`, path);
  return materialFromLegacyJson(doc, 'legacy-encrypted', path);
}

/** Validates securesystemslib's private key dict: keytype, scheme, keyid, keyid_hash_algorithms?, keyval. */
function materialFromLegacyJson(doc: unknown, format: PrivateKeyFormat, path: string): PrivateKeyMaterial {
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

// ---------------------------------------------------------------------------------------------------------------
// shared helpers

function materialFromSeed(
  keyid: string,
  publicHex: string,
  seedHex: string,
  format: PrivateKeyFormat,
  path: string,
): PrivateKeyMaterial {
  const privateKey = privateKeyFromSeed(seedHex);
  // A file whose public part does not match its seed would make us sign under the wrong keyid: refuse it.
  if (publicHexOf(privateKey) !== publicHex) {
    throw invalid(`${path}: the private key does not match the public key stored with it.`, path);
  }
  return { keyid, publicHex, privateKey, format };
}

function requirePassphrase(options: DecodeOptions): string {
  if (typeof options.passphrase === 'string') return options.passphrase;
  throw new NotsotufError('PASSPHRASE_REQUIRED', `${options.path} is encrypted and needs a passphrase.`, {
    path: options.path,
    hint: 'Give the passphrase of this key (prompted for, or through the environment in non-interactive use).',
  });
}

function base64Field(value: unknown, bytes: number, name: string, path: string): Buffer {
  if (typeof value === 'string') {
    const buf = Buffer.from(value, 'base64');
    // Node's base64 decoder skips junk silently; re-encoding catches anything that is not canonical base64.
    if (buf.length === bytes && buf.toString('base64') === value) return buf;
  }
  throw invalid(`${path}: "${name}" must be ${bytes} bytes in base64.`, path);
}

function expectFields(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const field of Object.keys(obj)) {
    if (!allowed.includes(field)) throw invalid(`${path} has an unexpected field "${field}".`, path);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, path: string, cause?: unknown, hint = HINT_DAMAGED): NotsotufError {
  return new NotsotufError('KEY_INVALID', message, { path, hint, ...(cause === undefined ? {} : { cause }) });
}

function decryptFailed(path: string, cause?: unknown): NotsotufError {
  return new NotsotufError(
    'KEY_DECRYPT_FAILED',
    `Could not decrypt ${path}: wrong passphrase or damaged file.`,
    {
      path,
      hint: HINT_WRONG_PASSPHRASE,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
