import type { Command } from 'commander';
import { NotsotufError } from '../../core/errors.js';
import { outputOf, wholeNumber } from '../context.js';
import { printResult } from '../render.js';

/** `notsotuf serve`: a static server for a repository directory, for development and tests. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a repository directory over HTTP (byte ranges, CDN cache headers) until interrupted')
    .argument('<repo-dir>', 'the repository directory (holds metadata/ and targets/)')
    .option('--port <n>', 'port (default: any free port)', wholeNumber('--port'), 0)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--log', 'print one line per request')
    .action(async (repoDir: string, opts, command: Command) => {
      const out = outputOf(command);
      const { serveDirectory } = await import('../../server/static-server.js');
      const server = await serveDirectory({
        root: repoDir,
        host: opts.host,
        port: opts.port,
        ...(opts.log
          ? {
              onRequest: (r: { method: string; path: string; status: number; range?: string }) =>
                process.stderr.write(`${r.status} ${r.method} ${r.path}${r.range ? ` (${r.range})` : ''}\n`),
            }
          : {}),
      }).catch((err: unknown) => {
        throw new NotsotufError('IO_ERROR', `Could not serve ${repoDir} on ${opts.host}:${opts.port}.`, {
          cause: err,
          path: repoDir,
          hint: 'Check that the directory exists and the port is free.',
        });
      });
      printResult(
        out,
        {
          ok: true,
          url: server.url,
          metadataUrl: `${server.url}/metadata/`,
          targetsUrl: `${server.url}/targets/`,
        },
        () =>
          `serving ${repoDir} at ${server.url} (metadata: ${server.url}/metadata/, targets: ${server.url}/targets/)`,
      );
      // Serve until SIGINT/SIGTERM, then close cleanly.
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
