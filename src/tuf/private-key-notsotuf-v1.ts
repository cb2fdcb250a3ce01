/**
 * The `notsotuf-v1` private key file: our encrypted JSON, the default for new keys. The seed is encrypted with
 * AES-256-GCM under a scrypt-derived key; the public part is stored in clear and bound to the ciphertext as AAD.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { canonicalize } from '@tufjs/canonical-json';
import { NotsotufError } from '../core/errors.js';
import {
  base64Field,
  type DecodeOptions,
  decryptFailed,
  expectFields,
  invalid,
  isPlainObject,
  materialFromSeed,
  type PrivateKeyMaterial,
  type PublicPart,
  publicPartOf,
  requirePassphrase,
} from './private-key-common.js';

const scryptAsync = promisify(scrypt) as (
  password: Uint8Array,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** The field whose presence marks a JSON key file as notsotuf-v1 (its value is the version, 1). */
export const FORMAT_MARKER = 'notsotuf_private_key';
const DEFAULT_SCRYPT_N = 2 ** 17;
const MIN_SCRYPT_N = 2 ** 14;
const MAX_SCRYPT_N = 2 ** 20;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SEED_BYTES = 32;

/** The additional authenticated data: binds the ciphertext to the public part, so swapping that part is detected. */
function aadOf(part: PublicPart): Buffer {
  return Buffer.from(canonicalize(part), 'utf8');
}

export async function encodeNotsotufV1(
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

/**
 * Every field is checked (version, public part, KDF, cipher) before the passphrase is asked for, so a damaged
 * file is KEY_INVALID, not a misleading KEY_DECRYPT_FAILED.
 */
export async function decodeNotsotufV1(doc: unknown, options: DecodeOptions): Promise<PrivateKeyMaterial> {
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
  const { N, salt } = kdfOf(doc['kdf'], path);
  const { iv, tag } = cipherOf(doc['cipher'], path);
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

function kdfOf(kdf: unknown, path: string): { N: number; salt: Buffer } {
  if (!isPlainObject(kdf) || kdf['name'] !== 'scrypt')
    throw invalid(`${path}: unsupported key derivation.`, path);
  expectFields(kdf, ['name', 'N', 'r', 'p', 'salt'], path);
  const { N, r, p } = kdf;
  // The file chooses the cost; bounding it keeps a hostile file from making us allocate gigabytes or spin for hours.
  if (!isAllowedScryptN(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw invalid(`${path}: scrypt parameters out of the allowed range (N 2^14..2^20, r 8, p 1).`, path);
  }
  return { N, salt: base64Field(kdf['salt'], SALT_BYTES, 'kdf.salt', path) };
}

function cipherOf(cipherInfo: unknown, path: string): { iv: Buffer; tag: Buffer } {
  if (!isPlainObject(cipherInfo) || cipherInfo['name'] !== 'aes-256-gcm') {
    throw invalid(`${path}: unsupported cipher.`, path);
  }
  expectFields(cipherInfo, ['name', 'iv', 'tag'], path);
  const iv = base64Field(cipherInfo['iv'], GCM_IV_BYTES, 'cipher.iv', path);
  const tag = base64Field(cipherInfo['tag'], GCM_TAG_BYTES, 'cipher.tag', path);
  return { iv, tag };
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
