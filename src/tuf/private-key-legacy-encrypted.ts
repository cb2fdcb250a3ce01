/**
 * The `legacy-encrypted` private key file, read only: securesystemslib's
 * `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext` (PBKDF2-HMAC-SHA256, AES-256-CTR, encrypt-then-HMAC-SHA256),
 * whose plaintext is the `legacy-plain` key dict.
 */
import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import {
  type DecodeOptions,
  decryptFailed,
  invalid,
  type PrivateKeyMaterial,
  parseJson,
  requirePassphrase,
} from './private-key-common.js';
import { materialFromLegacyJson } from './private-key-legacy-plain.js';

const pbkdf2Async = promisify(pbkdf2);

/** securesystemslib's delimiter between the hex fields of an encrypted key file. */
export const LEGACY_DELIMITER = '@@@@';
/** securesystemslib's default is 100,000; the cap keeps a hostile file from stalling us for minutes. */
const MAX_LEGACY_ITERATIONS = 10_000_000;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const DECIMAL = /^[1-9][0-9]{0,15}$/;

export async function decodeLegacyEncrypted(
  text: string,
  options: DecodeOptions,
): Promise<PrivateKeyMaterial> {
  const { path } = options;
  const { iterations, salt, storedHmac, iv, ciphertext } = fieldsOf(text, path);
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

/** The five delimited fields, checked before any key derivation (whose cost the file chooses). */
function fieldsOf(text: string, path: string) {
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
  return { iterations, salt, storedHmac, iv, ciphertext };
}
