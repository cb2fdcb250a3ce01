import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { cacheControlFor, contentTypeFor } from '../core/http-headers.js';

export interface ServeOptions {
  /** Directory to serve (a repository directory: `metadata/` and `targets/` below it). */
  readonly root: string;
  /** Default 127.0.0.1: a development server has no business on other interfaces unless asked. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Called for every request (tests count and order them). */
  readonly onRequest?: (info: { method: string; path: string; status: number; range?: string }) => void;
}

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Parses a single `bytes=a-b` range; undefined for none or an unsupported form (served whole). */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return 405;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return 400;
  }
  // Resolve, then require the real path to stay under the root: no `..`, no symlink out of the repository.
  const candidate = resolve(root, `.${pathname}`);
  let file: string;
  try {
    file = await realpath(candidate);
    if (file !== root && !file.startsWith(root + sep)) throw new Error('outside');
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    const size = info.size;
    const range = parseRange(req.headers.range, size);
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeFor(file),
      'Cache-Control': cacheControlFor(pathname),
      'Accept-Ranges': 'bytes',
      'Last-Modified': info.mtime.toUTCString(),
    };
    if (range === 'invalid') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return 416;
    }
    const status = range ? 206 : 200;
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return status;
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(file, { start, end });
      stream.on('error', () => {
        res.destroy();
        done();
      });
      res.on('close', () => {
        stream.destroy();
        done();
      });
      stream.pipe(res);
    });
    return status;
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' }).end('not found\n');
    return 404;
  }
}

/**
 * A static file server for a repository directory, with byte ranges (resumed downloads) and the cache headers
 * above. Meant for development and tests (`notsotuf serve`); production repositories sit on any static host.
 */
export async function serveDirectory(options: ServeOptions): Promise<RunningServer> {
  const root = await realpath(options.root);
  if (!(await stat(root)).isDirectory()) {
    throw Object.assign(new Error(`${options.root} is not a directory`), { code: 'ENOTDIR' });
  }
  const server = createServer((req, res) => {
    handle(root, req, res).then(
      (status) =>
        options.onRequest?.({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          status,
          ...(req.headers.range ? { range: req.headers.range } : {}),
        }),
      () => res.destroy(),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
