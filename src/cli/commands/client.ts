import { join } from 'node:path';
import type { Command } from 'commander';
import type { Client } from '../../client/client.js';
import type { WithheldRelease } from '../../client/plan/offer.js';
import type { UpdateInfo } from '../../client/update-info.js';
import { NotsotufError } from '../../core/errors.js';
import { collect, outputOf } from '../context.js';
import { formatBytes, printResult } from '../render.js';
import { usageError } from '../usage-error.js';
import {
  addAppOption,
  addRepositoryOptions,
  narrate,
  type RepositoryFlags,
  repositoryOptionsOf,
} from './client-flags.js';

interface ClientFlags extends RepositoryFlags {
  /** Optional for a versioned install root: its install.json says which version runs. */
  currentVersion?: string;
  installDir: string;
  cacheDir: string;
  patch: boolean;
  ignoreRequired?: boolean;
  installId?: string;
  purge?: boolean;
  exclude?: string[];
}

/** How the install dir is laid out: `update` installs the way the layout needs. */
type Layout = 'versioned' | 'in-place';

/**
 * The client of the flags (its modules load on first use: other commands do not need tuf-js), and the layout of
 * the install dir. A versioned install root (install.json) gets the versioned install, as the Client picks it by
 * layout; what cannot apply there is refused before anything is downloaded.
 */
async function clientFrom(flags: ClientFlags): Promise<{ client: Client; layout: Layout }> {
  const repository = repositoryOptionsOf(flags);
  const [{ Client }, { detectInstallLayout, inPlaceStrategy }, { compareVersions, parseVersion }] =
    await Promise.all([
      import('../../client/client.js'),
      import('../../install/index.js'),
      import('../../core/version.js'),
    ]);
  // INSTALL_FAILED for a damaged install.json, or a versioned root that lost it: never install in place there.
  const layout = await detectInstallLayout(flags.installDir);
  let currentVersion = flags.currentVersion;
  if (layout.kind === 'versioned') {
    const inPlaceOnly = [flags.purge ? '--purge' : '', flags.exclude?.length ? '--exclude' : ''].filter(
      Boolean,
    );
    if (inPlaceOnly.length > 0) {
      const named = inPlaceOnly.join(' and ');
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        `${named} ${inPlaceOnly.length > 1 ? 'apply' : 'applies'} only to in-place installs; ${flags.installDir} ` +
          'is a versioned install root ' +
          '(install.json), where each release goes into its own directory under versions/.',
        {
          path: flags.installDir,
          hint: `Run the update without ${named}: a versioned install never mixes the files of two releases.`,
        },
      );
    }
    const selected = layout.state.current;
    currentVersion ??= selected;
    if (compareVersions(parseVersion(currentVersion), parseVersion(selected)) !== 0) {
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        `--current-version ${currentVersion} is not the version that ${join(flags.installDir, 'install.json')} ` +
          `selects (${selected}).`,
        {
          path: flags.installDir,
          details: { currentVersion, selected },
          hint: `Pass --current-version ${selected}, or leave it out: the entry point starts that version (after a rollback, the previous one).`,
        },
      );
    }
  }
  if (currentVersion === undefined) {
    // As commander's own missing options: a usage error (exit 64), found before any request.
    throw usageError(
      `--current-version is required: ${flags.installDir} is not a versioned install root, so it does not say which version is installed.`,
      'Pass --current-version with the installed version.',
    );
  }
  const client = new Client({
    ...repository,
    currentVersion,
    installDir: flags.installDir,
    cacheDir: flags.cacheDir,
    allowPatches: flags.patch,
    ignoreRequired: Boolean(flags.ignoreRequired),
    ...(flags.installId ? { installId: flags.installId } : {}),
    // A versioned root: no strategy, so the client installs with the versioned one, as it picks by layout.
    ...(layout.kind === 'versioned'
      ? {}
      : { installStrategy: inPlaceStrategy({ purge: Boolean(flags.purge), exclude: flags.exclude ?? [] }) }),
  });
  return { client, layout: layout.kind };
}

function describe(info: UpdateInfo): string {
  const how =
    info.method.kind === 'patch'
      ? `${info.method.patches.length} patch(es): ${info.method.patches.map((p) => p.name).join(', ')}`
      : `the full archive ${info.method.archive.name} (${info.method.reason})`;
  return [
    `update available: ${info.currentVersion} → ${info.version}${info.required ? ' (required)' : ''}${info.critical ? ' (critical: this version must update)' : ''}`,
    ...(info.recall
      ? [`  ${info.recall.from} was recalled${info.recall.reason ? ` (${info.recall.reason})` : ''}`]
      : []),
    ...(info.rollout
      ? [
          `  offered by a staged rollout at ${info.rollout.percent} % (this install's bucket ${info.rollout.bucket.toFixed(1)})`,
        ]
      : []),
    ...info.withheld.map(describeWithheld),
    `  download: ${formatBytes(info.downloadBytes)} via ${how}; full archive ${formatBytes(info.archiveBytes)}`,
    ...(info.user === null || info.user === undefined
      ? []
      : [`  release metadata: ${JSON.stringify(info.user)}`]),
  ].join('\n');
}

/** Why a newer release is not offered to this install, in words. */
export function describeWithheld(w: WithheldRelease): string {
  const why =
    w.reason === 'rollout'
      ? `staged rollout at ${w.percent} %, this install's bucket is ${w.bucket?.toFixed(1)}`
      : w.reason === 'line'
        ? `a maintenance release of line ${w.line}`
        : w.reason;
  return `  ${w.version} not offered: ${why}`;
}

function addClientOptions(command: Command): Command {
  return addRepositoryOptions(
    addAppOption(command)
      .option(
        '--current-version <v>',
        'the installed version (default for a versioned install root: the one it runs)',
      )
      .requiredOption('--install-dir <dir>', 'where the app is installed')
      .requiredOption('--cache-dir <dir>', 'the client cache (metadata, archives, partial downloads)'),
  )
    .option('--no-patch', 'always download the full archive')
    .option('--ignore-required', 'jump over releases marked required')
    .option('--install-id <id>', "this install's id for staged rollouts (default: the one in the cache dir)");
}

/** `notsotuf client check|update`: the embeddable client, from the command line. */
export function registerClient(program: Command): void {
  const client = program
    .command('client')
    .description(
      'the update client from the command line: check for and install updates of an installed app',
    );
  registerCheck(client);
  registerUpdate(client);
}

function registerCheck(client: Command): void {
  addClientOptions(
    client.command('check').description('check for an update and print the plan (exit 0 either way)'),
  ).action(async (flags: ClientFlags, command: Command) => {
    const out = outputOf(command);
    const { client: c } = await clientFrom(flags);
    narrate(c, out);
    let withheld: readonly WithheldRelease[] = [];
    c.on('update-not-available', (e) => {
      withheld = e.withheld;
    });
    const info = await c.checkForUpdates();
    printResult(out, { ok: true, update: info, withheld: info?.withheld ?? withheld }, () =>
      info
        ? describe(info)
        : [
            `no update: ${c.currentVersion.raw} is the newest in channel ${flags.channel}`,
            ...withheld.map(describeWithheld),
          ].join('\n'),
    );
  });
}

function registerUpdate(client: Command): void {
  addClientOptions(client.command('update').description('check, download, verify and install an update'))
    .option('--purge', 'remove files of the install dir that the new release does not have')
    .option('--exclude <path>', 'keep this file or directory when purging (repeatable; * globs)', collect)
    .action(async (flags: ClientFlags, command: Command) => {
      const out = outputOf(command);
      const { client: c, layout } = await clientFrom(flags);
      narrate(c, out);
      c.on('update-available', (info) => {
        if (!out.json) process.stderr.write(`${describe(info)}\n`);
      });
      const result = await c.update();
      // Windows: running files cannot be replaced; the helper finishes once this process has exited.
      if (result?.outcome.kind === 'handover') await result.outcome.handover.start();
      printResult(
        out,
        result
          ? {
              ok: true,
              updated: true,
              version: result.version,
              outcome: result.outcome.kind,
              layout,
              method: result.download.method,
              fellBack: result.download.fellBack,
              downloadedBytes: result.download.bytes,
              ...(result.outcome.kind === 'handover'
                ? { handoverScript: result.outcome.handover.scriptPath }
                : {}),
            }
          : { ok: true, updated: false },
        () =>
          result?.outcome.kind === 'handover'
            ? `${result.version} downloaded and verified; a helper installs it into ${flags.installDir} once this command exits (log: ${result.outcome.handover.logFile})`
            : result
              ? layout === 'versioned'
                ? `installed ${result.version} into ${join(flags.installDir, 'versions', result.version)} (versioned install, on trial until it confirms; ${result.download.method}, ${formatBytes(result.download.bytes)} downloaded)`
                : `installed ${result.version} into ${flags.installDir} (${result.download.method}, ${formatBytes(result.download.bytes)} downloaded)`
              : `no update: ${c.currentVersion.raw} is the newest in channel ${flags.channel}`,
      );
    });
}
