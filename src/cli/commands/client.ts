import type { Command } from 'commander';
import type { Client } from '../../client/client.js';
import { CHANNELS, type Channel } from '../../client/plan/select-release.js';
import type { UpdateInfo } from '../../client/update-info.js';
import { NotsotufError } from '../../core/errors.js';
import { collect, outputOf, wholeNumber } from '../context.js';
import { formatBytes, type OutputOptions, ProgressBar, printResult } from '../render.js';

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
      throw new NotsotufError('INVALID_ARGUMENT', `--header "${line}" is not "Name: value".`);
    }
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

/** The client of the flags (its modules load on first use: other commands do not need tuf-js). */
async function clientFrom(flags: ClientFlags): Promise<Client> {
  if (!CHANNELS.includes(flags.channel as Channel)) {
    throw new NotsotufError('INVALID_ARGUMENT', `Unknown channel "${flags.channel}".`, {
      hint: `Use one of: ${CHANNELS.join(', ')}.`,
    });
  }
  const [{ Client }, { inPlaceStrategy }] = await Promise.all([
    import('../../client/client.js'),
    import('../../install/index.js'),
  ]);
  return new Client({
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
    installStrategy: inPlaceStrategy({ purge: Boolean(flags.purge), exclude: flags.exclude ?? [] }),
  });
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
    const c = await clientFrom(flags);
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
      const c = await clientFrom(flags);
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
              ? `installed ${result.version} into ${flags.installDir} (${result.download.method}, ${formatBytes(result.download.bytes)} downloaded)`
              : `no update: ${flags.currentVersion} is the newest in channel ${flags.channel}`,
      );
    });
}
