/**
 * What the private key file formats share: the decoded key's types, the checks of the public part and of JSON
 * fields, and the KEY_INVALID / KEY_DECRYPT_FAILED / PASSPHRASE_REQUIRED errors they all throw.
 */
import type { KeyObject } from 'node:crypto';
import { NotsotufError } from '../core/errors.js';
import { privateKeyFromSeed, publicHexOf } from './ed25519.js';

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

export interface DecodeOptions {
  /** The file the text came from, for error messages. */
  path: string;
  /** Needed for encrypted files; ignored for plain ones. */
  passphrase?: string | undefined;
}

/** The public half of a key file, as securesystemslib and notsotuf-v1 both store it. */
export interface PublicPart {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyid: string;
  keyval: { public: string };
}

/** A 32-byte value (seed or Ed25519 public key) in lowercase hex. */
export const HEX_32_BYTES = /^[0-9a-f]{64}$/;
/** sha256 or sha512 hex: the keyid forms securesystemslib produces. */
export const KEYID = /^[0-9a-f]{64}(?:[0-9a-f]{64})?$/;

const HINT_DAMAGED =
  'The key file is damaged or not a notsotuf/tufup private key file; restore it from your backup.';
const HINT_WRONG_PASSPHRASE =
  'Check the passphrase (it is case-sensitive); if the file was edited, restore it from a backup.';

export function publicPartOf(doc: Record<string, unknown>, path: string): PublicPart {
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

export function materialFromSeed(
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

export function requirePassphrase(options: DecodeOptions): string {
  if (typeof options.passphrase === 'string') return options.passphrase;
  throw new NotsotufError('PASSPHRASE_REQUIRED', `${options.path} is encrypted and needs a passphrase.`, {
    path: options.path,
    hint: 'Give the passphrase of this key (prompted for, or through the environment in non-interactive use).',
  });
}

export function base64Field(value: unknown, bytes: number, name: string, path: string): Buffer {
  if (typeof value === 'string') {
    const buf = Buffer.from(value, 'base64');
    // Node's base64 decoder skips junk silently; re-encoding catches anything that is not canonical base64.
    if (buf.length === bytes && buf.toString('base64') === value) return buf;
  }
  throw invalid(`${path}: "${name}" must be ${bytes} bytes in base64.`, path);
}

export function expectFields(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const field of Object.keys(obj)) {
    if (!allowed.includes(field)) throw invalid(`${path} has an unexpected field "${field}".`, path);
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalid(message: string, path: string, cause?: unknown, hint = HINT_DAMAGED): NotsotufError {
  return new NotsotufError('KEY_INVALID', message, { path, hint, ...(cause === undefined ? {} : { cause }) });
}

export function decryptFailed(path: string, cause?: unknown): NotsotufError {
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
