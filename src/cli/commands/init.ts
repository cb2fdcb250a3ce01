import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { validateAppName } from '../../core/target-name.js';
import { isRoleName, type RoleName } from '../../tuf/role-names.js';
import { collect, globalsOf, outputOf, passphraseFor } from '../context.js';
import { printResult } from '../render.js';
import { asUsage, UsageError, usageError } from '../usage-error.js';

/** Parses `role=n` pairs (`--expires timestamp=2`). */
export function roleNumbers(option: string, pairs: string[] | undefined): Partial<Record<RoleName, number>> {
  const out: Partial<Record<RoleName, number>> = {};
  for (const pair of pairs ?? []) {
    const m = /^([a-z]+)=(\d+)$/.exec(pair);
    if (!m || !isRoleName(m[1]!)) {
      throw new UsageError('INVALID_ARGUMENT', `${option} takes role=number, not "${pair}".`, {
        hint: `Example: ${option} timestamp=2 (roles: root, targets, snapshot, timestamp).`,
      });
    }
    out[m[1] as RoleName] = Number(m[2]);
  }
  return out;
}

async function askAppName(): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('App name (letters, digits, _ and -): ')).trim();
  } finally {
    rl.close();
  }
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create keys, the first signed metadata and the config (notsotuf.json)')
    .option('--app <name>', 'app name (letters, digits, _ and -); asked on a terminal when missing')
    .option('--repo-dir <dir>', 'repository directory, relative to the config', 'repository')
    .option('--unencrypted', 'store private keys unencrypted (tufup-compatible plain format)')
    .option(
      '--one-passphrase',
      'encrypt every key with one passphrase of the repository, asked once per command ("passphrase": "shared")',
    )
    .option(
      '--no-consistent-snapshot',
      'unversioned metadata and plain target names, as tufup clients expect',
    )
    .option('--expires <role=days>', 'expiry in days for a role (repeatable)', collect)
    .option('--threshold <role=n>', 'signature threshold for a role (repeatable)', collect)
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      const g = globalsOf(command);
      const appName = opts.app ?? (await askAppName());
      if (!appName) {
        throw usageError('The app name is missing.', 'Pass --app NAME.');
      }
      asUsage(() => validateAppName(appName));
      if (opts.onePassphrase && opts.unencrypted) {
        throw usageError('--one-passphrase encrypts the keys: it cannot go with --unencrypted.');
      }
      // The global --keys-dir names, for init, the directory the new keys go in.
      const keysDir = g.keysDir?.[0] ?? 'keystore';
      const { initRepository } = await import('../../repo/init.js');
      const result = await initRepository({
        appName,
        ...(g.config ? { configPath: g.config } : {}),
        repoDir: opts.repoDir,
        keysDir,
        encryptKeys: !opts.unencrypted,
        onePassphrase: Boolean(opts.onePassphrase),
        consistentSnapshot: opts.consistentSnapshot,
        expirationDays: roleNumbers('--expires', opts.expires),
        thresholds: roleNumbers('--threshold', opts.threshold),
        passphrase: passphraseFor(g),
      });
      printResult(out, { ok: true, ...result }, () =>
        [
          `created ${result.configPath}`,
          `repository: ${result.repoDir}`,
          `keys (${result.keysDir}): ${[...result.createdKeys.map((k) => `${k} (new)`), ...result.reusedKeys].join(', ')}`,
          'next: notsotuf release add <bundle-dir> --version <version>',
        ].join('\n'),
      );
    });
}
