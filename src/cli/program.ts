import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerClient } from './commands/client.js';
import { registerInit } from './commands/init.js';
import { registerInstall } from './commands/install.js';
import { registerKeys } from './commands/keys.js';
import { registerMaintenance } from './commands/maintain.js';
import { registerPatch } from './commands/patch.js';
import { registerPublish } from './commands/publish.js';
import { registerPull } from './commands/pull.js';
import { registerRelease } from './commands/release.js';
import { registerServe } from './commands/serve.js';
import { collect } from './context.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The whole `notsotuf` command tree. Commands only parse flags, call the library and render. */
export function buildProgram(): Command {
  const program = new Command('notsotuf')
    .description('secure self-updates on TUF: publish releases (this CLI) and update apps (notsotuf/client)')
    .addHelpText('after', '\nRun "notsotuf --version" for the version.')
    .option('--config <file>', 'config file (default: ./notsotuf.json, or ./.tufup-repo-config)')
    .option(
      '--keys-dir <dir>',
      'directory to search for keys (repeatable; default: keys_dir of the config)',
      collect,
    )
    .option(
      '--passphrase-file <file>',
      'read key passphrases from this file (else NOTSOTUF_PASSPHRASE[_<KEY>] or a prompt)',
    )
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError()
    // Set before the subcommands exist: commander copies it into each one, so their usage errors reach main()
    // (exit 64) instead of exiting the process themselves.
    .exitOverride();
  registerInit(program);
  registerKeys(program);
  registerRelease(program);
  registerMaintenance(program);
  registerPatch(program);
  registerPublish(program);
  registerPull(program);
  registerServe(program);
  registerClient(program);
  registerInstall(program);
  return program;
}
