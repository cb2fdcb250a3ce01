import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { NotsotufError } from '../../core/errors.js';
import { describeReleasePolicy } from '../../core/release-policy.js';
import type { AddedRelease, PublishResult } from '../../repo/index.js';
import { openRepository, outputOf, wholeNumber } from '../context.js';
import { formatBytes, ProgressBar, printResult, printWarnings } from '../render.js';
import { UsageError, usageError } from '../usage-error.js';
import { describePublish } from './describe.js';
import { registerReleaseControl, rolloutFrom, rolloutOptions } from './release-control.js';

async function userMeta(opts: { meta?: string; metaFile?: string }): Promise<unknown> {
  if (opts.meta !== undefined && opts.metaFile !== undefined) {
    throw usageError('Give either --meta or --meta-file, not both.');
  }
  const source =
    opts.meta ??
    (opts.metaFile === undefined
      ? undefined
      : await readFile(opts.metaFile, 'utf8').catch((err) => {
          throw new NotsotufError('IO_ERROR', `Could not read ${opts.metaFile}.`, {
            path: opts.metaFile,
            cause: err,
          });
        }));
  if (source === undefined) return null;
  try {
    return JSON.parse(source);
  } catch (err) {
    throw new UsageError('INVALID_ARGUMENT', 'The release metadata is not valid JSON.', {
      cause: err,
      hint: `Example: --meta '{"changes": ["fixed the login bug"]}'`,
    });
  }
}

export function registerRelease(program: Command): void {
  const release = program.command('release').description('add, list and remove releases');
  registerAdd(release);
  registerList(release);
  registerReleaseControl(release);
  registerRemove(release);
  registerPrune(release);
}

function registerAdd(release: Command): void {
  const add = release
    .command('add')
    .description('archive a bundle directory as a new release and sign it')
    .argument('<bundle-dir>', 'the app bundle directory')
    .requiredOption('--version <version>', 'release version (PEP 440 or semver, e.g. 1.2.0 or 1.2.0-rc.1)')
    .option('--required', 'clients must install this release before any later one', false)
    .option('--meta <json>', 'release metadata for the app, e.g. release notes (JSON)')
    .option('--meta-file <file>', 'read the release metadata from a JSON file')
    .option('--platform <os-arch>', 'publish for one platform, as <app>-<os>-<arch> (e.g. linux-x64)')
    .option('--skip-patch', 'do not make a patch from the previous release', false)
    .option(
      '--patch-codec <name>',
      'patch codec (default: notsotuf, or bsdiff4 for tufup-style repositories)',
    )
    .option(
      '--no-tufup-clients',
      "no app with tufup's client reads this tufup-style repository any more: allow patches it cannot apply",
    )
    .option('--maintenance', 'a patch release on an older line, below the latest release', false)
    .option('--line <prefix>', 'the line of a maintenance release (default: its major.minor, e.g. 1.4)')
    .option('--minimum-version <v>', 'installs below this version must update (critical update)')
    .option(
      '--stage',
      'save the change for more signatures when the keys here do not meet a threshold',
      false,
    );
  rolloutOptions(add, false).action(async (bundleDir: string, opts, command: Command) => {
    const out = outputOf(command);
    const rollout = rolloutFrom(opts, new Date());
    const repo = await openRepository(command);
    const bars = { archive: new ProgressBar('archiving', out), patch: new ProgressBar('diffing  ', out) };
    const { release: added, result } = await repo.addRelease({
      bundleDir,
      version: opts.version,
      required: opts.required,
      userMeta: await userMeta(opts),
      ...(opts.platform ? { platform: opts.platform } : {}),
      stage: opts.stage,
      ...(opts.patchCodec ? { patchCodec: opts.patchCodec } : {}),
      skipPatch: opts.skipPatch,
      noTufupClients: opts.tufupClients === false,
      maintenance: opts.maintenance,
      ...(opts.line ? { line: opts.line } : {}),
      ...(rollout ? { rollout } : {}),
      ...(opts.minimumVersion ? { minimumVersion: opts.minimumVersion } : {}),
      onProgress: (p) => {
        if (p.phase === 'patch') bars.archive.done();
        bars[p.phase].update(p.done, p.total);
      },
    });
    bars.archive.done();
    bars.patch.done();
    printWarnings(added.warnings);
    printResult(out, { ok: true, release: added, result }, () => describeAdded(added, result));
  });
}

function describeAdded(added: AddedRelease, result: PublishResult): string {
  return [
    `${added.app} ${added.version}: ${added.archive.name} (${formatBytes(added.archive.length)}, tar ${formatBytes(added.archive.tarSize)})`,
    ...(added.patch
      ? [
          `patch from ${added.patch.from}: ${added.patch.name} (${formatBytes(added.patch.length)}, ${added.patch.codec})`,
        ]
      : []),
    describePublish(result),
  ].join('\n');
}

function registerList(release: Command): void {
  release
    .command('list')
    .description('list the releases in the signed targets metadata')
    .option('--platform <os-arch>', 'only this platform')
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const now = Date.now();
      const releases = [...(await repo.releases()).entries()]
        .filter(([app]) => !opts.platform || app.endsWith(`-${opts.platform}`))
        .flatMap(([app, list]) =>
          list.map((r) => ({
            app,
            version: r.version.normalized,
            required: r.required,
            archive: r.archive ? { name: r.archive.name, length: r.archive.length } : null,
            patch: r.patch ? { name: r.patch.name, length: r.patch.length } : null,
            user: r.user,
            policy: r.policy ?? null,
            control: describeReleasePolicy(r.policy, now) ?? null,
          })),
        );
      printResult(out, { ok: true, releases }, () =>
        releases.length === 0
          ? 'no releases'
          : releases
              .map(
                (r) =>
                  `${r.app} ${r.version}${r.required ? ' (required)' : ''}  archive ${r.archive ? formatBytes(r.archive.length) : '-'}  patch ${r.patch ? formatBytes(r.patch.length) : '-'}${r.control ? `  [${r.control}]` : ''}`,
              )
              .join('\n'),
      );
    });
}

function registerRemove(release: Command): void {
  release
    .command('remove')
    .description('remove one release (its archive and patch) from the repository')
    .argument('<version>', 'the version to remove')
    .option('--platform <os-arch>', 'the platform of the release')
    .option(
      '--stage',
      'save the change for more signatures when the keys here do not meet a threshold',
      false,
    )
    .action(async (version: string, opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result: PublishResult = await repo.removeRelease(version, {
        platform: opts.platform,
        stage: opts.stage,
      });
      printWarnings(result.warnings);
      printResult(out, { ok: true, result }, () => describePublish(result));
    });
}

function registerPrune(release: Command): void {
  release
    .command('prune')
    .description('keep only the newest N releases')
    .requiredOption('--keep <n>', 'how many releases to keep', wholeNumber('--keep', 1))
    .option('--platform <os-arch>', 'the platform to prune')
    .option(
      '--stage',
      'save the change for more signatures when the keys here do not meet a threshold',
      false,
    )
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const result = await repo.pruneReleases(opts.keep, { platform: opts.platform, stage: opts.stage });
      printWarnings(result?.warnings);
      printResult(out, { ok: true, result: result ?? null }, () =>
        result ? describePublish(result) : 'nothing to prune',
      );
    });
}
