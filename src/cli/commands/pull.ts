import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { configRelative, loadConfig } from '../../repo/config.js';
import { globalsOf, outputOf } from '../context.js';
import { ProgressBar, printResult } from '../render.js';
import { addStoreOptions, DESTINATION_HELP, openStoreWith, type StoreFlags } from './store-flags.js';

interface PullFlags extends StoreFlags {
  from: string;
  privateFrom?: string;
  privateDir?: string;
  repoDir?: string;
  trustedRoot?: string;
  allTargets?: boolean;
}

/**
 * `notsotuf pull --from <dest>`: the first step of a stateless CI job (pull, release add, publish). With
 * `--private-from`, the config and keys come from a second, private location first.
 */
export function registerPull(program: Command): void {
  const command = program
    .command('pull')
    .description(
      'bring a published repository into the working directory: all metadata (verified like a client would) and the latest archive of each app, so the next release can be patched',
    )
    .requiredOption('--from <destination>', DESTINATION_HELP)
    .option('--private-from <destination>', 'also pull the config and keys from this private location first')
    .option('--private-dir <dir>', 'where --private-from files go (default: the config directory, else .)')
    .option('--repo-dir <dir>', 'the repository directory (default: repo_dir of the config)')
    .option(
      '--trusted-root <file>',
      'a root.json the pulled metadata must chain from (default: the local one)',
    )
    .option('--all-targets', 'download every archive and patch, not only the latest archive');
  addStoreOptions(command).action(async (opts: PullFlags, command: Command) => {
    const out = outputOf(command);
    const g = globalsOf(command);
    let privateFiles: string[] = [];
    if (opts.privateFrom) {
      const dir = resolve(opts.privateDir ?? (g.config ? dirname(g.config) : '.'));
      const privateStore = await openStoreWith(opts.privateFrom, opts);
      try {
        const { pullPrivate } = await import('../../storage/pull.js');
        privateFiles = (await pullPrivate(privateStore, dir)).written;
      } finally {
        privateStore.close?.();
      }
    }
    const repoDir = opts.repoDir
      ? resolve(opts.repoDir)
      : await loadConfig(g.config).then((c) => configRelative(c, c.config.repo_dir));
    const store = await openStoreWith(opts.from, opts);
    const bar = new ProgressBar('pulling', out, 'items');
    try {
      const { pullRepository } = await import('../../storage/pull.js');
      const result = await pullRepository({
        repoDir,
        store,
        ...(opts.trustedRoot ? { trustedRoot: resolve(opts.trustedRoot) } : {}),
        ...(opts.allTargets ? { allTargets: true } : {}),
        onProgress: (e) => bar.update(e.done, e.total),
      });
      bar.done();
      printResult(out, { ok: true, repoDir, privateFiles, ...result }, () =>
        [
          ...(opts.privateFrom ? [`private files written: ${privateFiles.length}`] : []),
          `pulled ${result.source} into ${repoDir}: timestamp version ${result.timestampVersion}, root version ${result.rootVersion}` +
            ` (${result.trust === 'first-use' ? 'root trusted on first use; pass --trusted-root to pin it' : `chained from the ${result.trust === 'local-root' ? 'local' : 'given'} root`})`,
          `${result.metadata.length} metadata file(s) written, ${result.targets.length} target(s) downloaded`,
          ...result.targets.map((k) => `  ${k}`),
        ].join('\n'),
      );
    } finally {
      store.close?.();
    }
  });
}
