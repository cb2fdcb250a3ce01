import type { Command } from 'commander';
import { NotsotufError } from '../../core/errors.js';
import { outputOf, wholeNumber } from '../context.js';
import { printResult } from '../render.js';

/** Says which of the two things that can go wrong went wrong: the directory, or the address. */
function serveError(err: unknown, repoDir: string, host: string, port: number): NotsotufError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new NotsotufError('IO_ERROR', `Cannot serve ${repoDir}: it is not a directory.`, {
      cause: err,
      path: repoDir,
      hint: 'Pass the repository directory (the one that holds metadata/ and targets/).',
    });
  }
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const why = {
      EADDRINUSE: 'is in use',
      EACCES: 'needs more privileges',
      EADDRNOTAVAIL: 'is not an address of this machine',
    }[code];
    return new NotsotufError('IO_ERROR', `Cannot listen on ${where}: the address ${why}.`, {
      cause: err,
      hint: 'Pick another --port (or leave it out for any free port), or another --host.',
    });
  }
  return new NotsotufError('IO_ERROR', `Could not serve ${repoDir} on ${where}.`, {
    cause: err,
    path: repoDir,
    hint: 'Check that the directory can be read and that the address is free.',
  });
}

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
        throw serveError(err, repoDir, opts.host, opts.port);
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
