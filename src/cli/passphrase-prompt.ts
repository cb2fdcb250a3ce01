import { createInterface } from 'node:readline';
import { NotsotufError } from '../core/errors.js';
import type { PassphraseProvider } from '../tuf/passphrase.js';

/** Reads one line from the terminal without echoing it. */
async function readHidden(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  // Echo nothing while the user types; readline calls _writeToOutput for every keystroke.
  output._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * Asks for passphrases on the terminal — only when stdin is a TTY, so scripts and CI fail with a clear
 * PASSPHRASE_REQUIRED instead of hanging on a prompt nobody sees.
 */
export function ttyPassphraseProvider(): PassphraseProvider {
  return async ({ keyName, purpose }) => {
    if (!process.stdin.isTTY) return undefined;
    const first = await readHidden(`Passphrase for key "${keyName}": `);
    if (purpose === 'encrypt') {
      const again = await readHidden(`Repeat the passphrase for "${keyName}": `);
      if (again !== first) {
        throw new NotsotufError('INVALID_ARGUMENT', 'The two passphrases differ.', {
          hint: 'Run the command again.',
        });
      }
      if (first.length === 0) {
        throw new NotsotufError('PASSPHRASE_REQUIRED', 'An empty passphrase does not protect a key.', {
          hint: 'Type a passphrase, or pass --unencrypted if the key really should be stored in plain text.',
        });
      }
    }
    return first;
  };
}
