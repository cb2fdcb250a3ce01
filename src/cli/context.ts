import type { Command } from 'commander';
import type { Repository } from '../repo/repository.js';
import {
  chainPassphraseProviders,
  envPassphraseProvider,
  filePassphraseProvider,
  type PassphraseProvider,
} from '../tuf/passphrase.js';
import { ttyPassphraseProvider } from './passphrase-prompt.js';
import type { OutputOptions } from './render.js';
import { usageError } from './usage-error.js';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  config?: string;
  keysDir?: string[];
  passphraseFile?: string;
  json?: boolean;
  debug?: boolean;
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function outputOf(command: Command): OutputOptions {
  const g = globalsOf(command);
  return { json: Boolean(g.json), debug: Boolean(g.debug) };
}

/** Passphrases: environment first, then --passphrase-file, then a prompt when on a terminal. */
export function passphraseFor(g: GlobalOptions): PassphraseProvider {
  return chainPassphraseProviders(
    envPassphraseProvider(),
    ...(g.passphraseFile ? [filePassphraseProvider(g.passphraseFile)] : []),
    ttyPassphraseProvider(),
  );
}

/**
 * The new passphrase of `keys passphrase --shared`: --new-passphrase-file, else NOTSOTUF_NEW_PASSPHRASE, else a
 * prompt (asked twice) on a terminal. Kept apart from {@link passphraseFor}, which gives the current ones.
 */
export function newPassphraseFor(file: string | undefined): PassphraseProvider {
  return chainPassphraseProviders(
    ...(file ? [filePassphraseProvider(file)] : []),
    async () => process.env['NOTSOTUF_NEW_PASSPHRASE'],
    ttyPassphraseProvider(),
  );
}

/** Opens the repository of the command's config (loaded on first use: commands without one stay light). */
export async function openRepository(command: Command): Promise<Repository> {
  const g = globalsOf(command);
  const { Repository } = await import('../repo/repository.js');
  return Repository.open({
    ...(g.config ? { configPath: g.config } : {}),
    ...(g.keysDir?.length ? { keysDirs: g.keysDir } : {}),
    passphrase: passphraseFor(g),
  });
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses a whole number option, with a usage error naming the option. */
export function wholeNumber(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw usageError(`${name} must be a whole number of at least ${min}, not "${value}".`);
    }
    return n;
  };
}
