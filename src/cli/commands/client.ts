import { join } from 'node:path';
import type { Command } from 'commander';
import type { Client } from '../../client/client.js';
import { CHANNELS, type Channel } from '../../client/plan/select-release.js';
import type { UpdateInfo } from '../../client/update-info.js';
import { NotsotufError } from '../../core/errors.js';
import { collect, outputOf, wholeNumber } from '../context.js';
import { formatBytes, type OutputOptions, ProgressBar, printResult } from '../render.js';
import { usageError } from '../usage-error.js';

interface ClientFlags {
  app: string;
  currentVersion: string;
  installDir: string;
  cacheDir: string;
  metadataUrl: string;
  targetsUrl: string;
  trustedRoot: string;
  channel: string;
  patch: boolean;
  ignoreRequired?: boolean;
  header?: string[];
  stallTimeout?: number;
  purge?: boolean;
  exclude?: string[];
}

function parseHeaders(lines: readonly string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    if (at <= 0) {
      throw usageError(
        `--header "${line}" is not "Name: value".`,
        'Example: --header "Authorization: Bearer TOKEN"',
      );
    }
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

/** How the install dir is laid out: `update` installs the way the layout needs. */
type Layout = 'versioned' | 'in-place';

/**
 * The client of the flags (its modules load on first use: other commands do not need tuf-js), and the layout of
 * the install dir. A versioned install root (install.json) gets the versioned install, as the Client picks it by
 * layout; what cannot apply there is refused before anything is downloaded.
 */
async function clientFrom(flags: ClientFlags): Promise<{ client: Client; layout: Layout }> {
  if (!CHANNELS.includes(flags.channel as Channel)) {
    throw usageError(`Unknown channel "${flags.channel}".`, `Use one of: ${CHANNELS.join(', ')}.`);
  }
  const [{ Client }, { detectInstallLayout, inPlaceStrategy }, { compareVersions, parseVersion }] =
    await Promise.all([
      import('../../client/client.js'),
      import('../../install/index.js'),
      import('../../core/version.js'),
    ]);
  // INSTALL_FAILED for a damaged install.json, or a versioned root that lost it: never install in place there.
  const layout = await detectInstallLayout(flags.installDir);
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
    if (compareVersions(parseVersion(flags.currentVersion), parseVersion(selected)) !== 0) {
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        `--current-version ${flags.currentVersion} is not the version that ${join(flags.installDir, 'install.json')} ` +
          `selects (${selected}).`,
        {
          path: flags.installDir,
          details: { currentVersion: flags.currentVersion, selected },
          hint: `Pass --current-version ${selected}: the entry point starts that version (after a rollback, the previous one).`,
        },
      );
    }
  }
  const client = new Client({
    appName: flags.app,
    currentVersion: flags.currentVersion,
    installDir: flags.installDir,
    cacheDir: flags.cacheDir,
    metadataUrl: flags.metadataUrl,
    targetsUrl: flags.targetsUrl,
    trustedRoot: { path: flags.trustedRoot },
    channel: flags.channel as Channel,
    allowPatches: flags.patch,
    ignoreRequired: Boolean(flags.ignoreRequired),
    headers: parseHeaders(flags.header),
    ...(flags.stallTimeout ? { fetch: { stallTimeoutMs: flags.stallTimeout * 1000 } } : {}),
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
    `update available: ${info.currentVersion} → ${info.version}${info.required ? ' (required)' : ''}`,
    `  download: ${formatBytes(info.downloadBytes)} via ${how}; full archive ${formatBytes(info.archiveBytes)}`,
    ...(info.user === null || info.user === undefined
      ? []
      : [`  release metadata: ${JSON.stringify(info.user)}`]),
  ].join('\n');
}

/** Human progress lines on stderr (never with --json), so a person sees each phase. */
function narrate(client: Client, out: OutputOptions): void {
  if (out.json) return;
  const bar = new ProgressBar('downloading', out);
  client.on('download-progress', (p) => bar.update(p.bytes, p.total));
  client.on('patching', (p) => {
    bar.done();
    process.stderr.write(`applying patch ${p.index}/${p.count}: ${p.name}\n`);
  });
  client.on('verifying', (p) => {
    bar.done();
    process.stderr.write(`verifying ${p.name}\n`);
  });
  client.on('extracting', (p) => process.stderr.write(`extracting ${p.version}\n`));
  client.on('installing', (s) => process.stderr.write(`install step ${s.index}/${s.total}: ${s.title}\n`));
  client.on('warning', (w) => process.stderr.write(`warning: ${w.message}\n`));
}

function addClientOptions(command: Command): Command {
  return command
    .requiredOption('--app <name>', 'app name, as in the target names')
    .requiredOption('--current-version <v>', 'the installed version')
    .requiredOption('--install-dir <dir>', 'where the app is installed')
    .requiredOption('--cache-dir <dir>', 'the client cache (metadata, archives, partial downloads)')
    .requiredOption('--metadata-url <url>', 'base URL (or directory) of the metadata')
    .requiredOption('--targets-url <url>', 'base URL (or directory) of the targets')
    .requiredOption('--trusted-root <file>', 'the root.json the app bundles')
    .option('--channel <name>', `update channel: ${CHANNELS.join(', ')}`, 'final')
    .option('--no-patch', 'always download the full archive')
    .option('--ignore-required', 'jump over releases marked required')
    .option('--header <line>', 'extra HTTP header "Name: value" (repeatable)', collect)
    .option(
      '--stall-timeout <seconds>',
      'abort a download receiving nothing for this long',
      wholeNumber('--stall-timeout', 1),
    );
}

/** `notsotuf client check|update`: the embeddable client, from the command line. */
export function registerClient(program: Command): void {
  const client = program
    .command('client')
    .description(
      'the update client from the command line: check for and install updates of an installed app',
    );

  addClientOptions(
    client.command('check').description('check for an update and print the plan (exit 0 either way)'),
  ).action(async (flags: ClientFlags, command: Command) => {
    const out = outputOf(command);
    const { client: c } = await clientFrom(flags);
    narrate(c, out);
    const info = await c.checkForUpdates();
    printResult(out, { ok: true, update: info }, () =>
      info ? describe(info) : `no update: ${flags.currentVersion} is the newest in channel ${flags.channel}`,
    );
  });

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
              : `no update: ${flags.currentVersion} is the newest in channel ${flags.channel}`,
      );
    });
}
