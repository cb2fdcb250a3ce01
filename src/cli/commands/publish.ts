import type { Command } from 'commander';
import { openStore } from '../../storage/open-store.js';
import { publishRepository } from '../../storage/publish.js';
import { openRepository, outputOf } from '../context.js';
import { ProgressBar, printResult } from '../render.js';

/** `notsotuf publish --to <dest>`: upload the repository in a safe order (targets first, timestamp.json last). */
export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description(
      'upload the repository to dir:<path> or rclone:<remote>:<path>: targets, then versioned metadata, then timestamp.json last; only what changed; read back after',
    )
    .requiredOption('--to <destination>', 'dir:<path> or rclone:<remote>:<path>')
    .option('--repo-dir <dir>', 'the repository directory (default: repo_dir of the config)')
    .option('--dry-run', 'show what would be uploaded, change nothing')
    .option('--rclone <binary>', 'the rclone binary', 'rclone')
    .action(
      async (opts: { to: string; repoDir?: string; dryRun?: boolean; rclone: string }, command: Command) => {
        const out = outputOf(command);
        const repoDir = opts.repoDir ?? (await openRepository(command)).repoDir;
        const store = openStore(opts.to, { rcloneBinary: opts.rclone });
        const bar = new ProgressBar('publishing', out);
        const result = await publishRepository({
          repoDir,
          store,
          dryRun: Boolean(opts.dryRun),
          onProgress: (e) => bar.update(e.done, e.total),
        });
        bar.done();
        printResult(out, { ok: true, ...result }, () =>
          [
            `${result.dryRun ? 'would upload' : 'uploaded'} ${result.uploaded.length} file(s) to ${result.destination}` +
              ` (${result.unchanged} unchanged)${result.dryRun ? '' : ', timestamp.json last, read back and verified'}`,
            ...result.uploaded.map((k) => `  ${k}`),
            ...(result.remoteOnly.length > 0
              ? [
                  `${result.remoteOnly.length} file(s) at the destination are no longer in the repository (kept)`,
                ]
              : []),
          ].join('\n'),
        );
      },
    );
}
