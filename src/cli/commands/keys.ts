import type { Command } from 'commander';
import { isRoleName, type RoleName } from '../../tuf/role-names.js';
import { newPassphraseFor, openRepository, outputOf, wholeNumber } from '../context.js';
import { printResult, printWarnings } from '../render.js';
import { UsageError, usageError } from '../usage-error.js';
import { describePublish } from './describe.js';

/** Parses a role argument with a clear error. */
export function roleArg(value: string): RoleName {
  if (!isRoleName(value)) {
    throw new UsageError('INVALID_ARGUMENT', `Unknown role "${value}".`, {
      hint: 'Roles are root, targets, snapshot and timestamp.',
    });
  }
  return value;
}

const STAGE_HELP = 'save the change for more signatures when the keys here do not meet a threshold';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create keys and change which keys sign each role');
  registerCreate(keys);
  registerList(keys);
  registerPassphrase(keys);
  registerRoleKeyChanges(keys);
  registerThreshold(program);
}

function registerCreate(keys: Command): void {
  keys
    .command('create')
    .description('create an ed25519 key pair (encrypted with a passphrase unless --unencrypted)')
    .argument('<name>', 'key file name (letters, digits, _ and -)')
    .option('--unencrypted', 'store the private key unencrypted (tufup-compatible plain format)')
    .action(async (name: string, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const key = await repo.createKey(name, opts.unencrypted ? { encrypted: false } : {});
      printResult(
        out,
        { ok: true, key },
        () =>
          `created key ${key.name} (${key.keyid}) in ${key.dir}${key.encrypted ? ', encrypted' : ', NOT encrypted'}`,
      );
    });
}

function registerList(keys: Command): void {
  keys
    .command('list')
    .description('list the keys in the key directories and the roles they sign')
    .action(async (_opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const state = await repo.loadState();
      const list = (await repo.keystore.list()).map((k) => ({
        name: k.name,
        keyid: k.keyid,
        dir: k.dir,
        privateKey: k.hasPrivate ? (k.encrypted ? 'encrypted' : 'plain') : 'absent',
        roles: Object.entries(state.root.signed.roles)
          .filter(([, def]) => def.keyIDs.includes(k.keyid))
          .map(([role]) => role),
      }));
      printResult(out, { ok: true, keys: list }, () =>
        list
          .map(
            (k) =>
              `${k.name.padEnd(14)} ${k.keyid.slice(0, 16)}…  private: ${k.privateKey.padEnd(9)} roles: ${k.roles.join(', ') || '-'}`,
          )
          .join('\n'),
      );
    });
}

function registerPassphrase(keys: Command): void {
  keys
    .command('passphrase')
    .description(
      'one passphrase for all keys (--shared: re-encrypts them all, or none), or one per key again',
    )
    .option('--shared', 're-encrypt every encrypted private key here with one new passphrase')
    .option('--per-key', 'ask for each key on its own again (the keys keep the passphrase they have)')
    .option(
      '--new-passphrase-file <file>',
      'read the new passphrase from this file (else NOTSOTUF_NEW_PASSPHRASE)',
    )
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      if (Boolean(opts.shared) === Boolean(opts.perKey)) {
        throw usageError('Give either --shared or --per-key.', 'Example: notsotuf keys passphrase --shared');
      }
      const repo = await openRepository(command);
      const result = await repo.setPassphraseMode(opts.shared ? 'shared' : 'per-key', {
        newPassphrase: newPassphraseFor(opts.newPassphraseFile),
      });
      printWarnings(result.warnings);
      printResult(out, { ok: true, result }, () =>
        result.mode === 'shared'
          ? `one passphrase for all keys: re-encrypted ${result.reencrypted.join(', ') || 'no key'}; ${result.configPath} says "passphrase": "shared"`
          : `one passphrase per key: ${result.configPath} says "passphrase": "per-key" (the keys keep their passphrases)`,
      );
    });
}

/** add, replace and revoke: the keys of a role, each a new root. */
function registerRoleKeyChanges(keys: Command): void {
  keys
    .command('add')
    .description('let an existing key sign a role (publishes a new root)')
    .argument('<role>', 'root, targets, snapshot or timestamp', roleArg)
    .argument('<name>', 'the key name')
    .option('--create', 'create the key first if it does not exist')
    .option('--unencrypted', 'with --create: store the new private key unencrypted')
    .option('--stage', STAGE_HELP, false)
    .action(async (role: RoleName, name: string, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result = await repo.addKey(role, name, {
        stage: opts.stage,
        create: Boolean(opts.create),
        ...(opts.unencrypted ? { encrypted: false } : {}),
      });
      printResult(out, { ok: true, result }, () => describePublish(result));
    });

  keys
    .command('replace')
    .description('replace a key in every role it signs (creates the new key if needed; publishes a new root)')
    .argument('<old>', 'the key to replace')
    .argument('<new>', 'the new key')
    .option('--stage', STAGE_HELP, false)
    .action(async (oldName: string, newName: string, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result = await repo.replaceKey(oldName, newName, { stage: opts.stage });
      printResult(out, { ok: true, result }, () => describePublish(result));
    });

  keys
    .command('revoke')
    .description('stop a key from signing a role (publishes a new root)')
    .argument('<role>', 'root, targets, snapshot or timestamp', roleArg)
    .argument('<name>', 'the key name')
    .option('--stage', STAGE_HELP, false)
    .action(async (role: RoleName, name: string, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result = await repo.revokeKey(role, name, { stage: opts.stage });
      printResult(out, { ok: true, result }, () => describePublish(result));
    });
}

function registerThreshold(program: Command): void {
  program
    .command('threshold')
    .description('signature thresholds')
    .command('set')
    .description('set how many keys must sign a role (publishes a new root)')
    .argument('<role>', 'root, targets, snapshot or timestamp', roleArg)
    .argument('<n>', 'number of signatures', wholeNumber('the threshold', 1))
    .option('--stage', STAGE_HELP, false)
    .action(async (role: RoleName, n: number, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result = await repo.setThreshold(role, n, { stage: opts.stage });
      printResult(out, { ok: true, result }, () => describePublish(result));
    });
}
