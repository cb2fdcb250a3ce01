import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { collect } from './context.js';

type Register = (program: Command) => void;

/**
 * The top-level commands and the module that defines each group, in help order. A run loads only the group of
 * the command it runs: `notsotuf patch apply` does not load the repository, storage or client code (startup time
 * and memory; the patch benchmark measures apply through this CLI). Help, and anything unrecognised, loads all.
 */
const COMMAND_GROUPS: readonly {
  readonly names: readonly string[];
  readonly load: () => Promise<Register>;
}[] = [
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  { names: ['keys', 'threshold'], load: async () => (await import('./commands/keys.js')).registerKeys },
  { names: ['release'], load: async () => (await import('./commands/release.js')).registerRelease },
  {
    names: ['refresh', 'status', 'verify', 'sign'],
    load: async () => (await import('./commands/maintain.js')).registerMaintenance,
  },
  { names: ['patch'], load: async () => (await import('./commands/patch.js')).registerPatch },
  { names: ['publish'], load: async () => (await import('./commands/publish.js')).registerPublish },
  { names: ['pull'], load: async () => (await import('./commands/pull.js')).registerPull },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['client'], load: async () => (await import('./commands/client.js')).registerClient },
  { names: ['install'], load: async () => (await import('./commands/install.js')).registerInstall },
];

/** Global options that take a value (`--config <file>`): the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--config', '--keys-dir', '--passphrase-file']);

/** The first word of `args` (argv without node and the script) that is not a global option or its value. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The `notsotuf` command tree for `args` (argv without node and the script): every group for help or an unknown
 * command, else only the group of the command given. Commands only parse flags, call the library and render.
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
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
  const word = commandWord(args);
  const group = COMMAND_GROUPS.find((g) => word !== undefined && g.names.includes(word));
  for (const { load } of group ? [group] : COMMAND_GROUPS) (await load())(program);
  return program;
}
