/**
 * A key pair on disk as tufup keeps it: `<dir>/<name>` (private, mode 0600) and `<dir>/<name>.pub` (public, 0644).
 */
import { lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { writeFileAtomic } from '../util/durable-fs.js';
import {
  decodePrivateKeyFile,
  encodePrivateKeyFile,
  type PrivateKeyInput,
  type PrivateKeyMaterial,
} from './private-key-file.js';
import {
  computeKeyId,
  LEGACY_KEYID_HASH_ALGORITHMS,
  type PublicKeyInfo,
  parsePublicKeyFile,
  serializePublicKey,
} from './public-key-file.js';

/** Key names are plain file names: no separators or dots, so a name can never point outside the key directory. */
const KEY_NAME = /^[A-Za-z0-9_-]+$/;
const MAX_KEY_NAME_LENGTH = 128;
/** Key files are a few hundred bytes; anything far larger is not one, and is not worth reading into memory. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export interface WriteKeyPairOptions {
  /** Encrypt the private key (`notsotuf-v1`) with this passphrase; without it the key is written unencrypted. */
  passphrase?: string | undefined;
  /** scrypt cost for the encryption; tests only. */
  scryptN?: number | undefined;
  /** Replace an existing key pair of the same name (default: refuse with KEY_EXISTS). */
  overwrite?: boolean | undefined;
}

/** The two files of a key pair. */
export interface KeyPairPaths {
  privatePath: string;
  publicPath: string;
}

/** A key to write: without a keyid, the keyid of notsotuf's `.pub` form is used (and returned). */
export type KeyPairInput = Omit<PrivateKeyInput, 'keyid'> & { keyid?: string | undefined };

/** What {@link writeKeyPair} wrote. */
export interface WrittenKeyPair extends KeyPairPaths {
  /** The keyid, the same in both files and the one {@link readPublicKey} computes from the `.pub` file. */
  keyid: string;
}

/** True when `name` is a valid key name (`[A-Za-z0-9_-]+`). */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_KEY_NAME_LENGTH && KEY_NAME.test(name);
}

/**
 * The paths of key pair `name` in `dir`.
 * @throws NotsotufError KEY_INVALID when the name is not `[A-Za-z0-9_-]+`.
 */
export function keyPairPaths(dir: string, name: string): KeyPairPaths {
  if (!isValidKeyName(name)) {
    throw new NotsotufError('KEY_INVALID', `Invalid key name ${JSON.stringify(name)}.`, {
      hint: 'Key names may contain only letters, digits, "_" and "-".',
      details: { name },
    });
  }
  const privatePath = join(dir, name);
  return { privatePath, publicPath: `${privatePath}.pub` };
}

/**
 * Writes a key pair atomically: the private file (0600) first, then the `.pub` file (0644). Creates `dir` (0700)
 * when missing. The `.pub` file takes notsotuf's form, or tufup's when `keyid` is a tufup keyid (computed with
 * `keyid_hash_algorithms`), so that the keyid read back from the `.pub` file always equals the private file's.
 * @throws NotsotufError KEY_EXISTS when either file exists and `overwrite` is not set; KEY_INVALID for a bad name,
 *   an inconsistent key or a keyid that is neither form's; IO_ERROR when writing fails.
 */
export async function writeKeyPair(
  dir: string,
  name: string,
  material: KeyPairInput,
  options: WriteKeyPairOptions = {},
): Promise<WrittenKeyPair> {
  const paths = keyPairPaths(dir, name);
  const { keyid, legacy } = keyidFor(material);
  // Encode first: a bad key or passphrase must fail before anything touches the disk.
  const privateText = await encodePrivateKeyFile(
    { keyid, publicHex: material.publicHex, privateKey: material.privateKey },
    { passphrase: options.passphrase, scryptN: options.scryptN },
  );
  const publicText = serializePublicKey(material.publicHex, { legacy });
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not create the key directory ${dir}.`, {
      path: dir,
      cause: err,
      hint: 'Check that the parent directory exists and is writable.',
    });
  }
  if (!options.overwrite) {
    // Check-then-write is not race-free, but key creation is a single-user, interactive act; this guards mistakes.
    for (const path of [paths.privatePath, paths.publicPath]) {
      if (await exists(path)) {
        throw new NotsotufError('KEY_EXISTS', `The key file ${path} already exists.`, {
          path,
          hint: 'Choose another key name, or remove the old key first if you really mean to replace it.',
          details: { name },
        });
      }
    }
  }
  await writeFileAtomic(paths.privatePath, privateText, 0o600);
  await writeFileAtomic(paths.publicPath, publicText, 0o644);
  return { ...paths, keyid };
}

/** Which `.pub` form reproduces the key's keyid; a keyid that neither form gives would split the pair. */
function keyidFor(material: KeyPairInput): { keyid: string; legacy: boolean } {
  const base = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: material.publicHex } };
  const ours = computeKeyId(base);
  if (material.keyid === undefined || material.keyid === ours) return { keyid: ours, legacy: false };
  if (material.keyid === computeKeyId({ ...base, keyid_hash_algorithms: LEGACY_KEYID_HASH_ALGORITHMS })) {
    return { keyid: material.keyid, legacy: true };
  }
  throw new NotsotufError('KEY_INVALID', `The keyid ${material.keyid} does not belong to this public key.`, {
    hint: "Write the key without a keyid to give it notsotuf's keyid.",
    details: { keyid: material.keyid },
  });
}

/**
 * Reads `<dir>/<name>.pub`.
 * @throws NotsotufError KEY_NOT_FOUND (no such file), KEY_INVALID (bad name or content), IO_ERROR.
 */
export async function readPublicKey(dir: string, name: string): Promise<PublicKeyInfo> {
  const { publicPath } = keyPairPaths(dir, name);
  return parsePublicKeyFile(await readKeyFile(publicPath, name), publicPath);
}

/**
 * Reads and decodes `<dir>/<name>` in any supported format.
 * @throws NotsotufError KEY_NOT_FOUND, KEY_INVALID, PASSPHRASE_REQUIRED, KEY_DECRYPT_FAILED, IO_ERROR.
 */
export async function readPrivateKey(
  dir: string,
  name: string,
  passphrase?: string,
): Promise<PrivateKeyMaterial> {
  const { privatePath } = keyPairPaths(dir, name);
  const text = await readKeyFile(privatePath, name);
  return decodePrivateKeyFile(text, { path: privatePath, passphrase });
}

async function readKeyFile(path: string, name: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new NotsotufError('KEY_INVALID', `${path} is not a regular file.`, {
        path,
        hint: 'A key file must be a file (or a link to one), not a directory or device.',
      });
    }
    if (info.size > MAX_KEY_FILE_BYTES) {
      throw new NotsotufError('KEY_INVALID', `${path} is too large to be a key file.`, { path });
    }
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof NotsotufError) throw err;
    if (errnoCode(err) === 'ENOENT') {
      throw new NotsotufError('KEY_NOT_FOUND', `The key file ${path} does not exist.`, {
        path,
        cause: err,
        hint: 'Check the key name and the keys directory, or create the key first.',
        details: { name },
      });
    }
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, {
      path,
      cause: err,
      hint: 'Check the file permissions.',
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw new NotsotufError('IO_ERROR', `Could not check ${path}.`, { path, cause: err });
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}
