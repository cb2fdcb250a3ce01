import type { Command } from 'commander';
import { openStore } from '../../storage/open-store.js';
import { publishRepository } from '../../storage/publish.js';
import { openRepository, outputOf } from '../context.js';
import { ProgressBar, printResult } from '../render.js';

interface PublishFlags {
  to: string;
  repoDir?: string;
  dryRun?: boolean;
  rclone: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3VirtualHost?: boolean;
}

/** `notsotuf publish --to <dest>`: upload the repository in a safe order (targets first, timestamp.json last). */
export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description(
      'upload the repository to dir:<path>, s3://<bucket>/<prefix> or rclone:<remote>:<path>: targets, then versioned metadata, then timestamp.json last; only what changed; read back after',
    )
    .requiredOption('--to <destination>', 'dir:<path>, s3://<bucket>/<prefix> or rclone:<remote>:<path>')
    .option('--repo-dir <dir>', 'the repository directory (default: repo_dir of the config)')
    .option('--dry-run', 'show what would be uploaded, change nothing')
    .option('--rclone <binary>', 'the rclone binary', 'rclone')
    .option('--s3-endpoint <url>', 'S3 endpoint (default: AWS_ENDPOINT_URL, else AWS)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .option('--s3-virtual-host', 'bucket in the host name (path style is the default with an endpoint)')
    .action(async (opts: PublishFlags, command: Command) => {
      const out = outputOf(command);
      const repoDir = opts.repoDir ?? (await openRepository(command)).repoDir;
      const store = await openStore(opts.to, {
        rcloneBinary: opts.rclone,
        s3: {
          ...(opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}),
          ...(opts.s3Region ? { region: opts.s3Region } : {}),
          ...(opts.s3VirtualHost ? { forcePathStyle: false } : {}),
        },
      });
      const bar = new ProgressBar('publishing', out);
      try {
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
      } finally {
        store.close?.();
      }
    });
}
