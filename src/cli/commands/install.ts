import type { Command } from 'commander';
import type { FirstInstaller, FirstInstallResult } from '../../client/first-install.js';
import { outputOf, wholeNumber } from '../context.js';
import { formatBytes, printResult } from '../render.js';
import { asUsage } from '../usage-error.js';
import {
  addAppOption,
  addRepositoryOptions,
  narrate,
  type RepositoryFlags,
  repositoryOptionsOf,
} from './client-flags.js';

interface InstallFlags extends RepositoryFlags {
  installRoot: string;
  entry: string;
  version?: string;
  cacheDir?: string;
  entryPoint?: string;
  confirmWithin?: number;
  maxLaunches?: number;
  quietLauncher?: boolean;
  selfLaunch?: boolean;
  launcher?: string;
  node?: string;
}

/** A word of a command line the user can paste: plain when it needs no quotes (Windows: double quotes). */
function shown(word: string): string {
  if (/^[\w@%+=:,./\\-]+$/.test(word)) return word;
  return process.platform === 'win32' ? `"${word}"` : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `notsotuf client update …` for the installed root (without --header: its values may be secrets). */
function updateArgs(flags: InstallFlags, r: FirstInstallResult): string[] {
  return [
    'client',
    'update',
    '--app',
    flags.app,
    // No --current-version: the root's install.json says which version runs, also after a rollback.
    '--install-dir',
    r.installRoot,
    '--cache-dir',
    r.cacheDir,
    '--metadata-url',
    flags.metadataUrl,
    '--targets-url',
    flags.targetsUrl,
    '--trusted-root',
    r.trustedRoot,
    ...(flags.channel === 'final' ? [] : ['--channel', flags.channel]),
  ];
}

function human(flags: InstallFlags, r: FirstInstallResult): string {
  const downloaded =
    r.downloadedBytes > 0 ? `${formatBytes(r.downloadedBytes)} downloaded` : 'archive found in the cache';
  return [
    `installed ${flags.app} ${r.version} into ${r.versionDir} (the first version of a versioned install; ${downloaded})`,
    `  entry point: ${r.entryPoint.path}`,
    `  trusted root: ${r.trustedRoot}; client cache: ${r.cacheDir}`,
    'start the app:',
    `  ${shown(r.entryPoint.path)}`,
    'install later releases:',
    `  notsotuf ${updateArgs(flags, r).map(shown).join(' ')}`,
  ].join('\n');
}

/** `notsotuf install`: the first install of an app in the versioned layout, so installers need no code. */
export function registerInstall(program: Command): void {
  const command = program
    .command('install')
    .description(
      'first install of an app: download, verify and install a release into a new versioned install root, and write its entry point',
    );
  addRepositoryOptions(
    addAppOption(command)
      .requiredOption('--install-root <dir>', 'the install root to create (absent, or an empty directory)')
      .requiredOption('--entry <path>', 'the file to start inside a release, e.g. bin/my-app or app.mjs'),
  )
    .option('--version <v>', 'install this release (any channel) instead of the newest in the channel')
    .option(
      '--cache-dir <dir>',
      'the client cache, for this and later updates (default: <install-root>/cache)',
    )
    .option('--entry-point <name>', 'file name of the entry point in the install root (default: --app)')
    .option(
      '--confirm-within <seconds>',
      'trial: seconds a new version has to confirm (launcher default 60)',
      wholeNumber('--confirm-within', 1),
    )
    .option(
      '--max-launches <n>',
      'trial: launches a new version gets to confirm (launcher default 3)',
      wholeNumber('--max-launches', 1),
    )
    .option('--quiet-launcher', 'the entry point passes --quiet: the launcher prints only errors')
    .option('--self-launch', "the entry point runs the app's own executable as launcher (apps without Node)")
    .option('--launcher <file>', "notsotuf-launch's main.js for the entry point (default: this notsotuf's)")
    .option('--node <file>', 'the Node that runs the launcher (default: the one running this command)')
    .addHelpText(
      'after',
      '\nThe install root must not exist or be empty; one that is a versioned install root already is updated ' +
        'with "notsotuf client update". A failed install leaves nothing behind. Exit 0: installed; 1: failed; ' +
        '64: bad usage.',
    )
    .action(runInstall);
}

async function runInstall(flags: InstallFlags, cmd: Command): Promise<void> {
  const out = outputOf(cmd);
  const installer = await installerFor(flags);
  narrate(installer, out);
  const r = await installUntilSignal(installer);
  printResult(
    out,
    {
      ok: true,
      installed: true,
      app: flags.app,
      version: r.version,
      installRoot: r.installRoot,
      versionDir: r.versionDir,
      entry: flags.entry,
      entryPoint: r.entryPoint.path,
      trustedRoot: r.trustedRoot,
      cacheDir: r.cacheDir,
      archive: r.archive,
      downloadedBytes: r.downloadedBytes,
      updateCommand: ['notsotuf', ...updateArgs(flags, r)],
    },
    () => human(flags, r),
  );
}

/** The FirstInstaller the flags describe. */
async function installerFor(flags: InstallFlags): Promise<FirstInstaller> {
  const repository = repositoryOptionsOf(flags);
  const { FirstInstaller } = await import('../../client/first-install.js');
  const trial = {
    ...(flags.confirmWithin === undefined ? {} : { confirmWithinSeconds: flags.confirmWithin }),
    ...(flags.maxLaunches === undefined ? {} : { maxLaunches: flags.maxLaunches }),
  };
  // A bad --version, --entry or entry point name is bad usage (64), found before anything is made.
  return asUsage(
    () =>
      new FirstInstaller({
        ...repository,
        installRoot: flags.installRoot,
        entry: flags.entry,
        ...(flags.version === undefined ? {} : { version: flags.version }),
        ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
        entryPoint: {
          ...(flags.entryPoint === undefined ? {} : { appName: flags.entryPoint }),
          ...(Object.keys(trial).length > 0 ? { trial } : {}),
          ...(flags.quietLauncher ? { quiet: true } : {}),
          ...(flags.selfLaunch ? { selfLaunch: true } : {}),
          ...(flags.launcher === undefined ? {} : { launcherPath: flags.launcher }),
          ...(flags.node === undefined ? {} : { nodePath: flags.node }),
        },
      }),
  );
}

/** Ctrl+C (or SIGTERM) aborts: the install removes what it made and fails with ABORTED. A second one kills. */
async function installUntilSignal(installer: FirstInstaller): Promise<FirstInstallResult> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return installer.install({ signal: controller.signal }).finally(() => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  });
}
