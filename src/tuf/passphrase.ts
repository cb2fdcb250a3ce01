import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';

/** What a passphrase is asked for. */
export interface PassphraseRequest {
  /** Key file name, e.g. `targets`. */
  readonly keyName: string;
  /** `decrypt` to load an existing key, `encrypt` to protect a new one (a prompt should ask twice). */
  readonly purpose: 'decrypt' | 'encrypt';
}

/**
 * Supplies passphrases for encrypted keys. Returns undefined when it has none; the library then fails with
 * PASSPHRASE_REQUIRED rather than prompting (prompts belong to the CLI, and only on a TTY).
 */
export type PassphraseProvider = (request: PassphraseRequest) => Promise<string | undefined>;

/** `NOTSOTUF_PASSPHRASE_<KEYNAME>`: key name upper-cased, `-` as `_`. */
export function passphraseEnvName(keyName: string): string {
  return `NOTSOTUF_PASSPHRASE_${keyName.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Passphrases from the environment: the per-key variable first, then `NOTSOTUF_PASSPHRASE` for all keys.
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
