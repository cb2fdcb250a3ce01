import { NotsotufError } from '../core/errors.js';
import { keyPairPaths } from '../tuf/key-pair-files.js';
import type { Keystore } from '../tuf/keystore.js';
import type { PassphraseProvider } from '../tuf/passphrase.js';
import { encodePrivateKeyFile, type PrivateKeyMaterial } from '../tuf/private-key-file.js';
import { Changeset } from './changeset.js';
import { type LoadedConfig, type PassphraseMode, serializeConfig } from './config.js';

export interface PassphraseModeOptions {
  /**
   * Where the one new passphrase of a `shared` repository comes from: asked once (`purpose: 'encrypt'`,
   * `shared: true`) after every key has been decrypted. Not used for `per-key`.
   */
  readonly newPassphrase?: PassphraseProvider;
  /** scrypt cost of the re-encrypted keys; tests only. */
  readonly scryptN?: number;
}

/** What `Repository.setPassphraseMode` did. */
export interface PassphraseModeResult {
  readonly mode: PassphraseMode;
  /** Keys now encrypted with the repository's one passphrase (`shared`; empty for `per-key`). */
  readonly reencrypted: readonly string[];
  /** Keys left as they were: unencrypted private keys, and public keys whose private key is not here. */
  readonly unchanged: readonly string[];
  readonly configPath: string;
  readonly warnings: readonly string[];
}

/**
 * Records how the keys of a repository get their passphrases. `shared` re-encrypts every encrypted private key in
 * the key directories with one new passphrase; all keys and the config are rewritten, or none:
 * 1. every key is decrypted first, so a wrong or missing passphrase stops the switch before anything is written;
 * 2. the new passphrase is asked once, and every key is encrypted in memory;
 * 3. the key files and the config are written as one changeset, which puts every file back when a write fails.
 * `per-key` only records the choice: the keys keep the passphrase they have (each can then be replaced with
 * `keys replace`). Unencrypted keys stay unencrypted either way.
 * @throws NotsotufError INVALID_ARGUMENT (a tufup config, which cannot record the choice), PASSPHRASE_REQUIRED,
 *   KEY_DECRYPT_FAILED, KEY_INVALID, IO_ERROR.
 */
export async function switchPassphraseMode(
  loaded: LoadedConfig,
  keystore: Keystore,
  mode: PassphraseMode,
  options: PassphraseModeOptions = {},
): Promise<PassphraseModeResult> {
  if (loaded.flavor === 'tufup' && mode === 'shared') {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `${loaded.path} is a tufup config, which has no place to record one passphrase for all keys.`,
      {
        path: loaded.path,
        hint: 'Keep one passphrase per key; NOTSOTUF_PASSPHRASE still serves every key that has the same one.',
      },
    );
  }
  const keys = await keystore.list();
  const encrypted = mode === 'shared' ? keys.filter((k) => k.hasPrivate && k.encrypted) : [];
  const unchanged = keys.filter((k) => !encrypted.includes(k)).map((k) => k.name);
  const warnings: string[] = [];

  // 1. Decrypt everything before writing anything.
  const materials: { name: string; dir: string; material: PrivateKeyMaterial }[] = [];
  for (const key of encrypted) {
    materials.push({ name: key.name, dir: key.dir, material: await keystore.decrypt(key.name) });
  }

  // 2. One new passphrase, every key encrypted with it in memory.
  const changes = new Changeset();
  const first = materials[0];
  if (first) {
    const ask = options.newPassphrase;
    const passphrase = ask ? await ask({ keyName: first.name, purpose: 'encrypt', shared: true }) : undefined;
    if (!passphrase) {
      throw new NotsotufError('PASSPHRASE_REQUIRED', 'The new passphrase for all keys is missing.', {
        hint: 'Set NOTSOTUF_NEW_PASSPHRASE, use --new-passphrase-file, or run on a terminal to type it.',
      });
    }
    for (const { name, dir, material } of materials) {
      if (material.format === 'legacy-encrypted') {
        warnings.push(
          `key ${name} was in tufup's encrypted format; it is now in notsotuf's, which tufup cannot read`,
        );
      }
      const text = await encodePrivateKeyFile(material, {
        passphrase,
        ...(options.scryptN ? { scryptN: options.scryptN } : {}),
      });
      changes.write(keyPairPaths(dir, name).privatePath, text, 0o600);
    }
  }
  for (const key of keys) {
    if (mode === 'shared' && key.hasPrivate && !key.encrypted) {
      warnings.push(`key ${key.name} is not encrypted; it stays so`);
    }
  }

  // 3. Keys first, the config last: a config that says "shared" is never left over keys that are not.
  const config = { ...loaded.config, passphrase: mode };
  changes.write(loaded.path, serializeConfig({ ...loaded, config }));
  await changes.commit();
  return {
    mode,
    reencrypted: materials.map((m) => m.name),
    unchanged,
    configPath: loaded.path,
    warnings,
  };
}
