/**
 * Real HTTP servers on 127.0.0.1 for the fetcher tests, each request answered by a test-given handler so that
 * faults (dropped connections, stalls, endless bodies, ignored ranges) can be injected. No mocked fetch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface SeenRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FaultServer {
  /** Base URL without a trailing slash. */
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Destroys every open connection: a connection dropped mid-body, at a moment the test chooses. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** `n` counts requests from 0. */
export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A server on 127.0.0.1 closed (hung responses included) when the test ends. */
export async function startServer(t: TestContext, handler: Handler): Promise<FaultServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const n = requests.length;
    requests.push({ path: req.url ?? '/', headers: req.headers });
    handler(req, res, n);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  t.after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropConnections: () => server.closeAllConnections(),
    close,
  };
}

/** A URL on 127.0.0.1 where nothing listens (a port that was free a moment ago). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return `http://127.0.0.1:${port}`;
}

/** The `bytes=N-` offset of a request, 0 without a Range header. */
export function rangeStart(req: IncomingMessage): number {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  return m ? Number(m[1]) : 0;
}

export interface SendOptions {
  /** Answer 200 with the whole body even to a Range request. */
  readonly ignoreRange?: boolean;
  /** Destroy the connection once the body has reached this absolute offset. */
  readonly dropAt?: number;
  /** Stop sending (but keep the connection open) once the body has reached this absolute offset. */
  readonly stallAt?: number;
}

/** Serves `data` honouring `Range: bytes=N-` (206) unless told otherwise, with the faults asked for. */
export function send(
  req: IncomingMessage,
  res: ServerResponse,
  data: Buffer,
  options: SendOptions = {},
): void {
  const start = options.ignoreRange ? 0 : rangeStart(req);
  if (start > 0) {
    res.writeHead(206, {
      'Content-Length': data.length - start,
      'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}`,
    });
  } else {
    res.writeHead(200, { 'Content-Length': data.length });
  }
  const cut = Math.min(options.dropAt ?? Infinity, options.stallAt ?? Infinity);
  if (cut >= data.length) {
    res.end(data.subarray(start));
    return;
  }
  const part = data.subarray(start, Math.max(start, cut));
  res.write(part, () => {
    if (options.dropAt !== undefined && cut === options.dropAt) res.socket?.destroy();
    // A stall: nothing more is written; the response stays open until the client gives up.
  });
}

/** Sends chunks without a Content-Length until the client goes away. */
export function sendForever(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) {}
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Test content: random, so that a misplaced byte range cannot go unnoticed. */
export function content(size = 256 * 1024): Buffer {
  return randomBytes(size);
}

export async function tempDir(t: TestContext, prefix = 'notsotuf-fetch-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A handler like tuf-js's: the downloaded file must match `expected` (length and sha256). Records the content
 * of every file it was given.
 */
export function verifyingHandler(expected: Buffer): {
  seen: Buffer[];
  handler: (path: string) => Promise<Buffer>;
} {
  const seen: Buffer[] = [];
  return {
    seen,
    handler: async (path) => {
      const got = await readFile(path);
      seen.push(got);
      if (got.length !== expected.length || sha256(got) !== sha256(expected))
        throw new Error('hash mismatch');
      return got;
    },
  };
}
