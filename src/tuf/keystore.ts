import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { generateEd25519, signHex } from './ed25519.js';
import { readPrivateKey, readPublicKey, writeKeyPair } from './key-pair-files.js';
import type { PassphraseProvider } from './passphrase.js';
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
  private entries: Promise<KeyEntry[]> | undefined;
  private readonly decrypted = new Map<string, Promise<PrivateKeyMaterial>>();
  /** Passphrases of keys created by this keystore, kept in memory for this process only. */
  private readonly created = new Map<string, string>();

  constructor(options: KeystoreOptions) {
    this.dirs = options.dirs;
    this.passphrase = options.passphrase;
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
   * Decrypts a private key once per keystore: one command signs several metadata files with the same key, and a
   * person at a terminal should type its passphrase once (not at all for a key this keystore just created).
   */
  private privateKey(entry: KeyEntry): Promise<PrivateKeyMaterial> {
    let loaded = this.decrypted.get(entry.name);
    if (!loaded) {
      loaded = (async () => {
        const passphrase = entry.encrypted
          ? (this.created.get(entry.name) ??
            (await this.passphrase({ keyName: entry.name, purpose: 'decrypt' })))
          : undefined;
        return readPrivateKey(entry.dir, entry.name, passphrase);
      })();
      // A failure (wrong passphrase) is not cached, so the caller can try again.
      loaded.catch(() => this.decrypted.delete(entry.name));
      this.decrypted.set(entry.name, loaded);
    }
    return loaded;
  }

  /** Deletes the key pair `name` (both files). Used to undo a key created by a command that then failed. */
  async delete(name: string): Promise<void> {
    const entry = (await this.list()).find((e) => e.name === name);
    if (!entry) return;
    await rm(join(entry.dir, name), { force: true });
    await rm(join(entry.dir, `${name}.pub`), { force: true });
    this.entries = undefined;
    this.decrypted.delete(name);
    this.created.delete(name);
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
      passphrase = await this.passphrase({ keyName: name, purpose: 'encrypt' });
      if (!passphrase) {
        throw new NotsotufError(
          'PASSPHRASE_REQUIRED',
          `A passphrase is needed to encrypt the new key "${name}".`,
          {
            hint: `Set NOTSOTUF_PASSPHRASE_${name.toUpperCase().replace(/-/g, '_')} or NOTSOTUF_PASSPHRASE, use --passphrase-file, run on a terminal, or pass --unencrypted.`,
            details: { key: name },
          },
        );
      }
    }
    const { publicHex, privateKey } = generateEd25519();
    await writeKeyPair(dir, name, { publicHex, privateKey }, { passphrase, scryptN: options.scryptN });
    if (passphrase) this.created.set(name, passphrase);
    this.entries = undefined;
    return this.get(name);
  }
}
