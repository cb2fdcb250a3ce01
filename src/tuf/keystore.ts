import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotsotufError, NotsotufError } from '../core/errors.js';
import { generateEd25519, signHex } from './ed25519.js';
import { readPrivateKey, readPublicKey, writeKeyPair } from './key-pair-files.js';
import { type PassphraseProvider, passphraseEnvName, samePassphrase } from './passphrase.js';
import { isEncryptedKeyFile, type PrivateKeyMaterial } from './private-key-file.js';
import type { PublicKeyInfo } from './public-key-file.js';
import type { Signer } from './signer.js';

/** A public key found in one of the key directories. */
export interface KeyEntry extends PublicKeyInfo {
  readonly name: string;
  readonly dir: string;
  /** Whether the private key file sits beside the public one. */
  readonly hasPrivate: boolean;
  /** Whether that private key file is encrypted (undefined without one). */
  readonly encrypted: boolean | undefined;
}

export interface KeystoreOptions {
  /** Directories to search, in order. Offline (root, targets) and online keys may live in different ones. */
  readonly dirs: readonly string[];
  readonly passphrase: PassphraseProvider;
  /**
   * Whether the repository keeps one passphrase for all its keys (config `"passphrase": "shared"`); passed on to
   * the provider with every request. A function is read at each request, so a config re-read counts.
   */
  readonly sharedPassphrase?: boolean | (() => boolean);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The key directories of a publisher: `<name>.pub` public keys and `<name>` private keys (tufup's layout).
 * Keys are found by keyid, so a key signs wherever root lists it, whatever its file is called.
 */
export class Keystore {
  readonly dirs: readonly string[];
  private readonly passphrase: PassphraseProvider;
  private readonly shared: () => boolean;
  private entries: Promise<KeyEntry[]> | undefined;
  private readonly decrypted = new Map<string, Promise<PrivateKeyMaterial>>();
  /** Passphrases that opened keys here or protect keys this keystore created: memory only, this process only. */
  private readonly known = new Map<string, string>();

  constructor(options: KeystoreOptions) {
    this.dirs = options.dirs;
    this.passphrase = options.passphrase;
    const shared = options.sharedPassphrase ?? false;
    this.shared = typeof shared === 'function' ? shared : () => shared;
  }

  /** Every public key in the key directories (first directory wins when a name repeats). */
  list(): Promise<KeyEntry[]> {
    this.entries ??= this.scan();
    return this.entries;
  }

  private async scan(): Promise<KeyEntry[]> {
    const out: KeyEntry[] = [];
    const seen = new Set<string>();
    for (const dir of this.dirs) {
      let files: string[];
      try {
        files = await readdir(dir);
      } catch {
        continue; // a key directory that is not there (yet) holds no keys
      }
      for (const file of files.sort()) {
        if (!file.endsWith('.pub')) continue;
        const name = file.slice(0, -4);
        if (seen.has(name) || !/^[A-Za-z0-9_-]+$/.test(name)) continue;
        seen.add(name);
        const pub = await readPublicKey(dir, name);
        const privatePath = join(dir, name);
        const hasPrivate = await exists(privatePath);
        const encrypted = hasPrivate ? isEncryptedKeyFile(await readFile(privatePath, 'utf8')) : undefined;
        out.push({ ...pub, name, dir, hasPrivate, encrypted });
      }
    }
    return out;
  }

  /** The public key called `name`; KEY_NOT_FOUND when no directory has it. */
  async get(name: string): Promise<KeyEntry> {
    const entry = (await this.list()).find((e) => e.name === name);
    if (!entry) {
      throw new NotsotufError('KEY_NOT_FOUND', `No key named "${name}" in ${this.dirs.join(', ')}.`, {
        hint: `Create it with "notsotuf keys create ${name}", or pass the directory that holds it with --keys-dir.`,
        details: { key: name },
      });
    }
    return entry;
  }

  /** The key with this keyid, if any directory has its public key. */
  async byKeyId(keyid: string): Promise<KeyEntry | undefined> {
    return (await this.list()).find((e) => e.keyid === keyid);
  }

  /**
   * A signer for `keyid` when its private key is available here, else undefined (another party may hold it).
   * The private key is decrypted on first use; a wrong passphrase fails loudly rather than skipping the key.
   */
  async signerFor(keyid: string): Promise<Signer | undefined> {
    const entry = await this.byKeyId(keyid);
    if (!entry?.hasPrivate) return undefined;
    const { name } = entry;
    return {
      keyid,
      name,
      sign: async (data: Uint8Array): Promise<string> =>
        signHex((await this.privateKey(entry)).privateKey, data),
    };
  }

  /**
   * The private key `name`, decrypted (asking for its passphrase when it is encrypted).
   * @throws NotsotufError KEY_NOT_FOUND, PASSPHRASE_REQUIRED, KEY_DECRYPT_FAILED, KEY_INVALID, IO_ERROR.
   */
  async decrypt(name: string): Promise<PrivateKeyMaterial> {
    const entry = await this.get(name);
    if (!entry.hasPrivate) {
      throw new NotsotufError('KEY_NOT_FOUND', `The private key of "${name}" is not in ${entry.dir}.`, {
        path: join(entry.dir, name),
        hint: 'Pass the directory that holds the private key with --keys-dir.',
        details: { key: name },
      });
    }
    return this.privateKey(entry);
  }

  /**
   * Decrypts a private key once per keystore: one command signs several metadata files with the same key, and a
   * person at a terminal should type its passphrase once (not at all for a key this keystore just created).
   */
  private privateKey(entry: KeyEntry): Promise<PrivateKeyMaterial> {
    let loaded = this.decrypted.get(entry.name);
    if (!loaded) {
      loaded = this.open(entry);
      // A failure (wrong passphrase) is not cached, so the caller can try again.
      loaded.catch(() => this.decrypted.delete(entry.name));
      this.decrypted.set(entry.name, loaded);
    }
    return loaded;
  }

  private async open(entry: KeyEntry): Promise<PrivateKeyMaterial> {
    const { dir, name } = entry;
    if (!entry.encrypted) return readPrivateKey(dir, name);
    const own = this.known.get(name);
    if (own !== undefined) return readPrivateKey(dir, name, own);
    // What a successful check opened: the passphrase the provider settles on is not run through scrypt again.
    const opened: { passphrase?: string; material?: PrivateKeyMaterial } = {};
    const check = async (candidate: string): Promise<boolean> => {
      try {
        opened.material = await readPrivateKey(dir, name, candidate);
        opened.passphrase = candidate;
        return true;
      } catch (err) {
        if (isNotsotufError(err) && err.code === 'KEY_DECRYPT_FAILED') return false;
        throw err;
      }
    };
    const shared = this.shared();
    const passphrase = await this.passphrase({ keyName: name, purpose: 'decrypt', shared, check });
    if (
      passphrase !== undefined &&
      opened.material &&
      opened.passphrase !== undefined &&
      samePassphrase(opened.passphrase, passphrase)
    ) {
      this.known.set(name, passphrase);
      return opened.material;
    }
    try {
      const material = await readPrivateKey(dir, name, passphrase);
      if (passphrase !== undefined) this.known.set(name, passphrase);
      return material;
    } catch (err) {
      if (shared && isNotsotufError(err) && err.code === 'KEY_DECRYPT_FAILED') {
        throw new NotsotufError(
          'KEY_DECRYPT_FAILED',
          `Could not decrypt the key "${name}" with the passphrase of this repository.`,
          {
            path: join(dir, name),
            cause: err,
            hint:
              'This repository has one passphrase for all keys: check NOTSOTUF_PASSPHRASE or --passphrase-file. ' +
              `A key that kept a passphrase of its own takes ${passphraseEnvName(name)}; ` +
              '"notsotuf keys passphrase --shared" moves it to the shared one.',
            details: { key: name },
          },
        );
      }
      throw err;
    }
  }

  /** Deletes the key pair `name` (both files). Used to undo a key created by a command that then failed. */
  async delete(name: string): Promise<void> {
    const entry = (await this.list()).find((e) => e.name === name);
    if (!entry) return;
    await rm(join(entry.dir, name), { force: true });
    await rm(join(entry.dir, `${name}.pub`), { force: true });
    this.entries = undefined;
    this.decrypted.delete(name);
    this.known.delete(name);
  }

  /** Creates a new ed25519 key pair in `dir` (default: the first key directory). */
  async create(
    name: string,
    options: { encrypted: boolean; dir?: string; scryptN?: number },
  ): Promise<KeyEntry> {
    const dir = options.dir ?? this.dirs[0];
    if (!dir) throw new NotsotufError('INVALID_ARGUMENT', 'No key directory to create the key in.');
    if ((await this.list()).some((e) => e.name === name)) {
      throw new NotsotufError('KEY_EXISTS', `A key named "${name}" already exists.`, {
        hint: 'Pick another name, or use the existing key.',
        details: { key: name },
      });
    }
    let passphrase: string | undefined;
    if (options.encrypted) {
      const shared = this.shared();
      // One passphrase for all keys: a new key takes the one that opens the keys already here (which also checks
      // it); only the first key of a repository asks for a new one.
      const sibling = shared ? (await this.list()).find((e) => e.hasPrivate && e.encrypted) : undefined;
      if (sibling) {
        await this.privateKey(sibling);
        passphrase = this.known.get(sibling.name);
      } else {
        passphrase = await this.passphrase({ keyName: name, purpose: 'encrypt', shared });
      }
      if (!passphrase) {
        throw new NotsotufError(
          'PASSPHRASE_REQUIRED',
          `A passphrase is needed to encrypt the new key "${name}".`,
          {
            hint: shared
              ? 'Set NOTSOTUF_PASSPHRASE (the passphrase of all keys of this repository), use --passphrase-file, run on a terminal, or pass --unencrypted.'
              : `Set ${passphraseEnvName(name)} or NOTSOTUF_PASSPHRASE, use --passphrase-file, run on a terminal, or pass --unencrypted.`,
            details: { key: name },
          },
        );
      }
    }
    const { publicHex, privateKey } = generateEd25519();
    await writeKeyPair(dir, name, { publicHex, privateKey }, { passphrase, scryptN: options.scryptN });
    if (passphrase) this.known.set(name, passphrase);
    this.entries = undefined;
    return this.get(name);
  }
}
