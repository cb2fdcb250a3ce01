import type { Command } from 'commander';
import { NotsotufError } from '../../core/errors.js';
import type { RepoStatus } from '../../repo/index.js';
import { openRepository, outputOf } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { printResult } from '../render.js';
import { describePublish } from './describe.js';

/** `refresh`, `status`, `verify` and `sign`: keeping a repository valid over time. */
export function registerMaintenance(program: Command): void {
  registerRefresh(program);
  registerStatus(program);
  registerVerify(program);
  registerSign(program);
}

function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description(
      `re-sign roles that expire within DAYS (for cron). Exit ${EXIT.OK}: nothing to do; ${EXIT.CHANGED}: refreshed (publish it); ${EXIT.FAILURE}: failed or an expiring role could not be refreshed`,
    )
    .option(
      '--within <days>',
      'refresh roles expiring within this many days (default: less than half their lifetime left)',
    )
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      const within = opts.within === undefined ? undefined : Number(opts.within);
      if (within !== undefined && (!Number.isFinite(within) || within < 0)) {
        throw new NotsotufError(
          'INVALID_ARGUMENT',
          `--within must be a number of days, not "${opts.within}".`,
        );
      }
      const repo = await openRepository(command);
      const { refreshed, skipped, result } = await repo.refresh(within);
      printResult(out, { ok: skipped.length === 0, refreshed, skipped, result: result ?? null }, () =>
        [
          refreshed.length
            ? `refreshed: ${refreshed.join(', ')}`
            : within === undefined
              ? 'nothing is due for refresh'
              : `nothing expires within ${within} day(s)`,
          ...skipped.map((s) => `NOT refreshed: ${s.role}: ${s.reason}`),
          ...(result ? [describePublish(result)] : []),
        ].join('\n'),
      );
      if (skipped.length) process.exitCode = EXIT.FAILURE;
      else if (refreshed.length) process.exitCode = EXIT.CHANGED;
    });
}

function registerStatus(program: Command): void {
  program
    .command('status')
    .description('roles, versions, thresholds, signatures, expiry and releases')
    .action(async (_opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const status = await repo.status();
      printResult(out, { ok: true, ...status }, () => describeStatus(status));
    });
}

function describeStatus(status: RepoStatus): string {
  const lines = [
    `app ${status.appName}  repository ${status.repoDir}  consistent snapshots: ${status.consistentSnapshot ? 'yes' : 'no'}`,
  ];
  for (const r of status.roles) {
    const keys = r.keys.map((k) => `${k.name ?? k.keyid.slice(0, 12)}${k.signed ? '✓' : '✗'}`).join(' ');
    lines.push(
      `${r.role.padEnd(9)} v${String(r.version).padEnd(4)} expires ${r.expires} (${r.daysLeft} days${r.expiry === 'ok' ? '' : `, ${r.expiry.toUpperCase()}`})  signatures ${r.validSignatures}/${r.threshold}  keys ${keys}`,
    );
  }
  lines.push(status.releases.length ? 'releases:' : 'releases: none');
  for (const r of status.releases) {
    lines.push(
      `  ${r.app} ${r.version}${r.required ? ' (required)' : ''}${r.patch ? ' +patch' : ''}${r.control ? `  [${r.control}]` : ''}`,
    );
  }
  for (const w of status.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'load the repository as a client would (tuf-js) and check every target; non-zero exit on any problem',
    )
    .action(async (_opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      const report = await repo.verify();
      printResult(out, report, () =>
        [
          report.ok
            ? `ok: root v${report.rootVersion}, targets v${report.targetsVersion}, ${report.targetsChecked} target(s) verified`
            : 'FAILED',
          ...report.problems.map((p) => `problem${p.target ? ` in ${p.target}` : ''}: ${p.message}`),
        ].join('\n'),
      );
      if (!report.ok) process.exitCode = EXIT.FAILURE;
    });
}

function registerSign(program: Command): void {
  program
    .command('sign')
    .description('add your signatures to the staged change; publishes it once every threshold is met')
    .option('--discard', 'drop the staged change instead')
    .action(async (opts, command: Command) => {
      const out = outputOf(command);
      const repo = await openRepository(command);
      if (opts.discard) {
        await repo.discardStaged();
        printResult(out, { ok: true, discarded: true }, () => 'staged change discarded');
        return;
      }
      const result = await repo.signStaged();
      printResult(out, { ok: true, result }, () => describePublish(result));
    });
}
