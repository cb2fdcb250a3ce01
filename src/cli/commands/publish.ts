import type { Command } from 'commander';
import { NotsotufError } from '../../core/errors.js';
import { parseGrace } from '../../storage/prune-plan.js';
import { openRepository, outputOf } from '../context.js';
import { ProgressBar, printResult } from '../render.js';
import { addStoreOptions, DESTINATION_HELP, openStoreWith, type StoreFlags } from './store-flags.js';

interface PublishFlags extends StoreFlags {
  to: string;
  repoDir?: string;
  dryRun?: boolean;
  prune?: boolean;
  grace: string;
}

function graceOf(text: string): number {
  const ms = parseGrace(text);
  if (ms === undefined) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `--grace must be a number and a unit (30m, 36h, 7d), not "${text}".`,
    );
  }
  return ms;
}

/** `notsotuf publish --to <dest>`: upload the repository in a safe order (targets first, timestamp.json last). */
export function registerPublish(program: Command): void {
  const command = program
    .command('publish')
    .description(
      'upload the repository: targets, then versioned metadata, then timestamp.json last; only what changed; read back after',
    )
    .requiredOption('--to <destination>', DESTINATION_HELP)
    .option('--repo-dir <dir>', 'the repository directory (default: repo_dir of the config)')
    .option('--dry-run', 'show what would be uploaded (and pruned), change nothing')
    .option('--prune', 'then delete files that no repository state of the grace period references')
    .option('--grace <duration>', 'how long a replaced repository state stays complete, for --prune', '7d');
  addStoreOptions(command).action(async (opts: PublishFlags, command: Command) => {
    const out = outputOf(command);
    const graceMs = graceOf(opts.grace);
    const repoDir = opts.repoDir ?? (await openRepository(command)).repoDir;
    const store = await openStoreWith(opts.to, opts);
    const bar = new ProgressBar('publishing', out);
    try {
      const { publishRepository } = await import('../../storage/publish.js');
      const result = await publishRepository({
        repoDir,
        store,
        dryRun: Boolean(opts.dryRun),
        onProgress: (e) => bar.update(e.bytesDone, e.bytes),
        ...(opts.prune ? { prune: { graceMs } } : {}),
      });
      bar.done();
      printResult(out, { ok: true, ...result }, () =>
        [
          `${result.dryRun ? 'would upload' : 'uploaded'} ${result.uploaded.length} file(s) to ${result.destination}` +
            ` (${result.unchanged} unchanged)${result.dryRun ? '' : ', timestamp.json last, read back and verified'}`,
          ...result.uploaded.map((k) => `  ${k}`),
          ...(result.pruned
            ? [
                `${result.dryRun ? 'would prune' : 'pruned'} ${result.pruned.length} file(s)`,
                ...result.pruned.map((k) => `  ${k}`),
              ]
            : []),
          ...(result.pruneBlockedBy ? [`nothing pruned yet: ${result.pruneBlockedBy}`] : []),
          ...(result.remoteOnly.length > 0
            ? [
                `${result.remoteOnly.length} file(s) at the destination are no longer referenced (kept${opts.prune ? ' for the grace period' : '; --prune removes them'})`,
              ]
            : []),
        ].join('\n'),
      );
    } finally {
      store.close?.();
    }
  });
}
