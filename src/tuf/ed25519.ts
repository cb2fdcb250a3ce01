/**
 * Ed25519 keys as TUF and tufup store them: the public key as 64 hex characters of the raw 32-byte key, the private
 * key as the 32-byte seed (64 hex). node:crypto only speaks DER/PEM/JWK, so this module converts between the two.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import { NotsotufError } from '../core/errors.js';

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER header of an Ed25519 public key; the 32-byte raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_32_BYTES = /^[0-9a-f]{64}$/;

/** A freshly generated key pair. */
export interface GeneratedEd25519 {
  /** The raw public key, 64 lowercase hex characters (the form TUF metadata uses). */
  publicHex: string;
  privateKey: KeyObject;
}

/** Generates a new Ed25519 key pair from 32 bytes of the system CSPRNG. */
export function generateEd25519(): GeneratedEd25519 {
  const privateKey = privateKeyFromSeedBytes(randomBytes(32));
  return { publicHex: publicHexOf(privateKey), privateKey };
}

/**
 * Loads a private key from its 32-byte seed in hex (securesystemslib's `keyval.private`).
 * @throws NotsotufError KEY_INVALID when the seed is not 64 lowercase hex characters.
 */
export function privateKeyFromSeed(seedHex: string): KeyObject {
  if (typeof seedHex !== 'string' || !HEX_32_BYTES.test(seedHex)) {
    throw new NotsotufError('KEY_INVALID', 'An Ed25519 private key must be 64 lowercase hex characters.', {
      hint: 'The key file is damaged or not an Ed25519 key file.',
    });
  }
  return privateKeyFromSeedBytes(Buffer.from(seedHex, 'hex'));
}

function privateKeyFromSeedBytes(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/**
 * Loads a public key from its 64-hex raw form, e.g. to verify signatures.
 * @throws NotsotufError KEY_INVALID when `publicHex` is not 64 lowercase hex characters.
 */
export function publicKeyFromHex(publicHex: string): KeyObject {
  if (typeof publicHex !== 'string' || !HEX_32_BYTES.test(publicHex)) {
    throw new NotsotufError('KEY_INVALID', 'An Ed25519 public key must be 64 lowercase hex characters.', {
      hint: 'The key is damaged or not an Ed25519 key.',
    });
  }
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

/** The raw public key (64 lowercase hex) of an Ed25519 private or public key. */
export function publicHexOf(key: KeyObject): string {
  assertEd25519(key);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  // The SPKI DER of an Ed25519 key is a fixed 12-byte header followed by the raw 32-byte key.
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
}

/** The 32-byte seed (64 lowercase hex) of an Ed25519 private key, as securesystemslib stores it. */
export function seedHexOf(privateKey: KeyObject): string {
  assertEd25519(privateKey);
  if (privateKey.type !== 'private') throw keyInvalid('Expected an Ed25519 private key, got a public key.');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  // Node exports the bare PKCS#8 form (no embedded public key), so the seed is exactly what follows the header.
  if (der.length !== PKCS8_PREFIX.length + 32 || !der.subarray(0, PKCS8_PREFIX.length).equals(PKCS8_PREFIX)) {
    throw keyInvalid('Unexpected PKCS#8 encoding of an Ed25519 private key.');
  }
  return der.subarray(PKCS8_PREFIX.length).toString('hex');
}

/** Signs `bytes` with Ed25519 (no pre-hash) and returns the 64-byte signature as lowercase hex, as TUF stores it. */
export function signHex(privateKey: KeyObject, bytes: Uint8Array): string {
  assertEd25519(privateKey);
  return sign(null, bytes, privateKey).toString('hex');
}

function assertEd25519(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyInvalid(`Expected an Ed25519 key, got ${String(key.asymmetricKeyType ?? key.type)}.`);
  }
}

function keyInvalid(message: string): NotsotufError {
  return new NotsotufError('KEY_INVALID', message, { hint: 'notsotuf only supports Ed25519 keys.' });
}
