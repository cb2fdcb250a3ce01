/**
 * What `client check|update` and `install` share: the flags naming the app and its repository, their parsing, and
 * the progress lines on stderr. Declared once, so both commands take the same flags with the same meaning.
 */
import type { Command } from 'commander';
import type { ClientEvents } from '../../client/events.js';
import { CHANNELS, type Channel } from '../../client/plan/select-release.js';
import { collect, wholeNumber } from '../context.js';
import { type OutputOptions, ProgressBar } from '../render.js';
import { usageError } from '../usage-error.js';

/** The flags of {@link addAppOption} and {@link addRepositoryOptions}, as commander parses them. */
export interface RepositoryFlags {
  app: string;
  metadataUrl: string;
  targetsUrl: string;
  trustedRoot: string;
  channel: string;
  header?: string[];
  stallTimeout?: number;
}

/** Adds `--app`: the app, as the repository names it. */
export function addAppOption(command: Command): Command {
  return command.requiredOption('--app <name>', 'app name, as in the target names');
}

/** Adds the flags of the repository's location, trust anchor, channel and transport. */
export function addRepositoryOptions(command: Command): Command {
  return command
    .requiredOption('--metadata-url <url>', 'base URL (or absolute directory) of the metadata')
    .requiredOption('--targets-url <url>', 'base URL (or absolute directory) of the targets')
    .requiredOption('--trusted-root <file>', 'the root.json the app bundles')
    .option('--channel <name>', `update channel: ${CHANNELS.join(', ')}`, 'final')
    .option('--header <line>', 'extra HTTP header "Name: value" (repeatable)', collect)
    .option(
      '--stall-timeout <seconds>',
      'abort a download receiving nothing for this long',
      wholeNumber('--stall-timeout', 1),
    );
}

/** The channel of `--channel`, or a usage error listing the channels. */
export function channelOf(name: string): Channel {
  if (!CHANNELS.includes(name as Channel)) {
    throw usageError(`Unknown channel "${name}".`, `Use one of: ${CHANNELS.join(', ')}.`);
  }
  return name as Channel;
}

export function parseHeaders(lines: readonly string[] = []): Record<string, string> {
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

/** The options of the Client (and of the FirstInstaller) that the repository flags give; usage errors first. */
export function repositoryOptionsOf(flags: RepositoryFlags): {
  appName: string;
  metadataUrl: string;
  targetsUrl: string;
  trustedRoot: { path: string };
  channel: Channel;
  headers: Record<string, string>;
  fetch?: { stallTimeoutMs: number };
} {
  return {
    appName: flags.app,
    metadataUrl: flags.metadataUrl,
    targetsUrl: flags.targetsUrl,
    trustedRoot: { path: flags.trustedRoot },
    channel: channelOf(flags.channel),
    headers: parseHeaders(flags.header),
    ...(flags.stallTimeout ? { fetch: { stallTimeoutMs: flags.stallTimeout * 1000 } } : {}),
  };
}

/** Human progress lines on stderr (never with --json), so a person sees each phase. */
export function narrate(events: ClientEvents, out: OutputOptions): void {
  if (out.json) return;
  const bar = new ProgressBar('downloading', out);
  events.on('download-progress', (p) => bar.update(p.bytes, p.total));
  events.on('patching', (p) => {
    bar.done();
    process.stderr.write(`applying patch ${p.index}/${p.count}: ${p.name}\n`);
  });
  events.on('verifying', (p) => {
    bar.done();
    process.stderr.write(`verifying ${p.name}\n`);
  });
  events.on('extracting', (p) => process.stderr.write(`extracting ${p.version}\n`));
  events.on('installing', (s) => process.stderr.write(`install step ${s.index}/${s.total}: ${s.title}\n`));
  events.on('warning', (w) => process.stderr.write(`warning: ${w.message}\n`));
}
