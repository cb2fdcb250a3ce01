import { createInterface } from 'node:readline';
import { NotsotufError } from '../core/errors.js';
import { type PassphraseProvider, type PassphraseRequest, samePassphrase } from '../tuf/passphrase.js';
import { stderrTerminal } from './terminal.js';

/** How many times a passphrase is asked on a terminal before a wrong one fails the command. */
export const MAX_PASSPHRASE_ATTEMPTS = 3;

/** What the prompts call the one passphrase of a repository that shares one (config `"passphrase": "shared"`). */
const REPOSITORY_KEYS = 'the keys of this repository';

/** Reads one line from the terminal without echoing it, on a line of its own (a progress bar steps aside). */
function readHidden(prompt: string): Promise<string> {
  return stderrTerminal.prompt(async () => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    // readline draws the prompt after clearing the line (ESC[1G ESC[0J), so it must draw the prompt itself: a prompt
    // written before would be wiped. It calls _writeToOutput with the prompt plus the typed text on a redraw, and
    // with each typed character: let through the prompt only, never what is typed.
    output._writeToOutput = (text) => {
      if (text.startsWith(prompt)) process.stderr.write(prompt);
    };
    try {
      return await new Promise<string>((resolve) => rl.question(prompt, resolve));
    } finally {
      rl.close();
      process.stderr.write('\n');
    }
  });
}

export interface TtyPassphraseOptions {
  /** Asks before a wrong passphrase fails with KEY_DECRYPT_FAILED (default {@link MAX_PASSPHRASE_ATTEMPTS}). */
  readonly maxAttempts?: number;
}

/**
 * Asks for passphrases on the terminal — only when stdin is a TTY, so scripts and CI fail with a clear
 * PASSPHRASE_REQUIRED instead of hanging on a prompt nobody sees.
 *
 * It asks as little as it safely can within one process (one command run):
 * - a passphrase typed here that opened a key, or protects a new one, is remembered in memory (never written) and
 *   tried on the next key before asking: keys often share a passphrase. A wrong try only costs one key derivation;
 *   it tells nothing to anyone but this process;
 * - a repository with one passphrase for all keys is asked for "the keys of this repository" once;
 * - a wrong passphrase is asked again, up to `maxAttempts` times in all;
 * - requests are answered one at a time, so two keys never prompt at once and the second finds the first's answer.
 */
export function ttyPassphraseProvider(options: TtyPassphraseOptions = {}): PassphraseProvider {
  const maxAttempts = options.maxAttempts ?? MAX_PASSPHRASE_ATTEMPTS;
  const remembered: string[] = [];
  /** The one passphrase of a shared repository, once typed (and checked when there was a key to check it on). */
  let repositoryPassphrase: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const remember = (passphrase: string) => {
    if (!remembered.some((r) => samePassphrase(r, passphrase))) remembered.push(passphrase);
  };

  const decrypt = async ({ keyName, shared, check }: PassphraseRequest): Promise<string | undefined> => {
    if (check) {
      for (const candidate of remembered) if (await check(candidate)) return candidate;
    }
    if (!process.stdin.isTTY) return undefined;
    const askRepository = Boolean(shared) && repositoryPassphrase === undefined;
    if (shared && !askRepository) {
      stderrTerminal.writeLines(`The passphrase of this repository does not open key "${keyName}".\n`);
    }
    const label = askRepository ? `Passphrase for ${REPOSITORY_KEYS}: ` : `Passphrase for key "${keyName}": `;
    for (let attempt = 1; ; attempt++) {
      const typed = await readHidden(label);
      if (!check || (await check(typed))) {
        remember(typed);
        if (askRepository) repositoryPassphrase = typed;
        return typed;
      }
      if (attempt >= maxAttempts) {
        throw new NotsotufError(
          'KEY_DECRYPT_FAILED',
          `Wrong passphrase for key "${keyName}" (${attempt} attempts).`,
          {
            hint: 'Check the passphrase (it is case-sensitive) and run the command again; if the key file was edited, restore it from a backup.',
            details: { key: keyName },
          },
        );
      }
      const left = maxAttempts - attempt;
      stderrTerminal.writeLines(
        `Wrong passphrase for key "${keyName}"; try again (${left} more ${left === 1 ? 'try' : 'tries'}).\n`,
      );
    }
  };

  const encrypt = async ({ keyName, shared }: PassphraseRequest): Promise<string | undefined> => {
    if (!process.stdin.isTTY) return undefined;
    if (shared && repositoryPassphrase !== undefined) return repositoryPassphrase;
    const first = await readHidden(
      shared ? `New passphrase for ${REPOSITORY_KEYS}: ` : `Passphrase for key "${keyName}": `,
    );
    const again = await readHidden(
      shared ? `Repeat the passphrase for ${REPOSITORY_KEYS}: ` : `Repeat the passphrase for "${keyName}": `,
    );
    if (!samePassphrase(first, again)) {
      throw new NotsotufError('INVALID_ARGUMENT', 'The two passphrases differ.', {
        hint: 'Run the command again.',
      });
    }
    if (first.length === 0) {
      throw new NotsotufError('PASSPHRASE_REQUIRED', 'An empty passphrase does not protect a key.', {
        hint: 'Type a passphrase, or pass --unencrypted if the key really should be stored in plain text.',
      });
    }
    remember(first);
    if (shared) repositoryPassphrase = first;
    return first;
  };

  return (request) => {
    const answer = queue.then(() => (request.purpose === 'encrypt' ? encrypt(request) : decrypt(request)));
    queue = answer.catch(() => undefined);
    return answer;
  };
}
