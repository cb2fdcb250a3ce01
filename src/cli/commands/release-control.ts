/**
 * `release rollout | halt | resume | recall | critical`: change the signed policy of published releases. Each
 * signs a new targets version (the targets key is needed); `publish` then ships it like any release change.
 */
import type { Command } from 'commander';
import type { PolicyChange, PolicyTarget } from '../../repo/release-control.js';
import { parseRolloutSchedule } from '../../repo/rollout-schedule.js';
import { collect, openRepository, outputOf } from '../context.js';
import { printResult, printWarnings } from '../render.js';
import { asUsage, usageError } from '../usage-error.js';
import { describePublish } from './describe.js';

const STAGE_HELP = 'save the change for more signatures when the keys here do not meet a threshold';

/** `1.3.0` or `1.3.0..1.3.5` (inclusive). */
export function parseVersionRange(text: string, platform: string | undefined): PolicyTarget {
  const [version, through, ...rest] = text.split('..');
  if (!version || rest.length > 0 || through === '') {
    throw usageError(`"${text}" is neither a version nor a range such as 1.3.0..1.3.5.`);
  }
  return { version, ...(through ? { through } : {}), ...(platform ? { platform } : {}) };
}

/** Rollout options shared by `release add` and `release rollout`. */
export function rolloutOptions(command: Command, required: boolean): Command {
  const percent = '--percent <p>';
  const percentHelp = 'offer the release to this share of installs now (0-100)';
  return (
    required ? command.requiredOption(percent, percentHelp) : command.option(percent, percentHelp)
  ).option('--then <p@delay>', 'a later wave, e.g. 50@24h or 100@3d (repeatable; units m, h, d)', collect);
}

/** The waves of `--percent`/`--then`, or undefined without `--percent`. */
export function rolloutFrom(opts: { percent?: string; then?: string[] }, now: Date) {
  if (opts.percent === undefined) {
    if (opts.then?.length) throw usageError('--then needs --percent for the first wave.');
    return undefined;
  }
  return asUsage(() => parseRolloutSchedule(opts.percent as string, opts.then ?? [], now));
}

async function run(command: Command, target: PolicyTarget, change: PolicyChange, stage: boolean) {
  const out = outputOf(command);
  const repo = await openRepository(command);
  const result = await repo.changeReleasePolicy(target, change, { stage });
  printWarnings(result.warnings);
  printResult(out, { ok: true, change, target, result }, () => describePublish(result));
}

function policyCommand(parent: Command, name: string, description: string, argument: string): Command {
  return parent
    .command(name)
    .description(description)
    .argument(argument, name === 'recall' ? 'a version, or a range such as 1.3.0..1.3.5' : 'the version')
    .option('--platform <os-arch>', 'the platform of the release')
    .option('--stage', STAGE_HELP, false);
}

export function registerReleaseControl(release: Command): void {
  rolloutOptions(
    policyCommand(release, 'rollout', 'offer a release to a share of installs, in waves', '<version>'),
    true,
  ).action(async (version: string, opts, command: Command) => {
    const waves = rolloutFrom(opts, new Date()) ?? [];
    await run(command, parseVersionRange(version, opts.platform), { kind: 'rollout', waves }, opts.stage);
  });

  policyCommand(release, 'halt', 'offer a release to nobody new (installs on it stay)', '<version>').action(
    async (version: string, opts, command: Command) =>
      run(command, parseVersionRange(version, opts.platform), { kind: 'halt' }, opts.stage),
  );

  policyCommand(
    release,
    'resume',
    'undo a halt: offer the release again per its rollout',
    '<version>',
  ).action(async (version: string, opts, command: Command) =>
    run(command, parseVersionRange(version, opts.platform), { kind: 'resume' }, opts.stage),
  );

  policyCommand(release, 'recall', 'move installs running a bad release to a good one', '<version-or-range>')
    .option('--to <good>', 'the release they install instead (may be lower)')
    .option('--reason <text>', 'why, for logs and the app')
    .option('--cancel', 'withdraw the recall', false)
    .action(async (version: string, opts, command: Command) => {
      if (opts.cancel === (opts.to !== undefined)) throw usageError('Give either --to <good> or --cancel.');
      const change: PolicyChange = opts.cancel
        ? { kind: 'unrecall' }
        : { kind: 'recall', to: opts.to, ...(opts.reason ? { reason: opts.reason } : {}) };
      await run(command, parseVersionRange(version, opts.platform), change, opts.stage);
    });

  policyCommand(release, 'critical', 'installs below a version must update to this release', '<version>')
    .option('--below <minimum-version>', 'installs below this version must update')
    .option('--cancel', 'no minimum version any more', false)
    .action(async (version: string, opts, command: Command) => {
      if (opts.cancel === (opts.below !== undefined))
        throw usageError('Give either --below <version> or --cancel.');
      const change: PolicyChange = { kind: 'minimum', minimumVersion: opts.cancel ? undefined : opts.below };
      await run(command, parseVersionRange(version, opts.platform), change, opts.stage);
    });
}
