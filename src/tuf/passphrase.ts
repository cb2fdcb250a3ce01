import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';

/** What a passphrase is asked for. */
export interface PassphraseRequest {
  /** Key file name, e.g. `targets`. */
  readonly keyName: string;
  /** `decrypt` to load an existing key, `encrypt` to protect a new one (a prompt should ask twice). */
  readonly purpose: 'decrypt' | 'encrypt';
  /**
   * The repository keeps one passphrase for all its keys (config `"passphrase": "shared"`): a prompt asks for "the
   * passphrase of this repository" once per process instead of once per key.
   */
  readonly shared?: boolean | undefined;
  /**
   * Decrypt only: tries a candidate passphrase on the key and says whether it opens it, without failing. A
   * provider that can ask again (a prompt) uses it to re-ask after a typo, or to try a passphrase that opened
   * another key before asking at all. A key a check opened is not decrypted a second time. Providers that cannot
   * ask again just return their answer; a wrong one then fails with KEY_DECRYPT_FAILED.
   */
  readonly check?: ((passphrase: string) => Promise<boolean>) | undefined;
}

/**
 * Supplies passphrases for encrypted keys. Returns undefined when it has none; the library then fails with
 * PASSPHRASE_REQUIRED rather than prompting (prompts belong to the CLI, and only on a TTY).
 */
export type PassphraseProvider = (request: PassphraseRequest) => Promise<string | undefined>;

/**
 * Whether two passphrases are equal, in time that does not depend on where they differ (both are hashed first, so
 * their lengths do not leak either).
 */
export function samePassphrase(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** `NOTSOTUF_PASSPHRASE_<KEYNAME>`: key name upper-cased, `-` as `_`. */
export function passphraseEnvName(keyName: string): string {
  return `NOTSOTUF_PASSPHRASE_${keyName.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Passphrases from the environment: the per-key variable first, then `NOTSOTUF_PASSPHRASE` for all keys. The
 * order is the same whether or not the repository shares one passphrase: there `NOTSOTUF_PASSPHRASE` is the
 * passphrase, and a per-key variable serves a key that still has a passphrase of its own.
 */
export function envPassphraseProvider(env: NodeJS.ProcessEnv = process.env): PassphraseProvider {
  return async ({ keyName }) => env[passphraseEnvName(keyName)] ?? env['NOTSOTUF_PASSPHRASE'];
}

/** A passphrase read from a file (first line, without its line break), the same for every key. */
export function filePassphraseProvider(path: string): PassphraseProvider {
  let cached: Promise<string> | undefined;
  return async () => {
    cached ??= readFile(path, 'utf8').then(
      (text) => text.split(/\r?\n/)[0] ?? '',
      (err: unknown) => {
        throw new NotsotufError('IO_ERROR', `Could not read the passphrase file ${path}.`, {
          path,
          cause: err,
          hint: 'Check the path given with --passphrase-file.',
        });
      },
    );
    return cached;
  };
}

/** Asks each provider in turn and returns the first answer. */
export function chainPassphraseProviders(...providers: PassphraseProvider[]): PassphraseProvider {
  return async (request) => {
    for (const provider of providers) {
      const value = await provider(request);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
