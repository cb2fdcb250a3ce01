import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';

/** One request: a URL read from a byte offset. */
export interface OpenRequest {
  readonly url: string;
  /** First byte wanted; above 0 an http request carries `Range: bytes=<offset>-`. */
  readonly offset: number;
  /** Extra request headers (http only). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly userAgent?: string;
  /** Aborts the request (http: connecting and headers; the body is aborted through the caller's pipeline). */
  readonly signal?: AbortSignal;
}

/** What opening a URL gave. Network failures are thrown as they come (the caller classifies them). */
export type Opened =
  | {
      readonly kind: 'body';
      /** Offset of the body's first byte: the requested offset, or 0 when the source ignored the range. */
      readonly start: number;
      /** Body length when the source announced it. */
      readonly length: number | undefined;
      readonly body: Readable;
    }
  /** The source refused the offset (416, or a 206 for another range): start over from zero. */
  | { readonly kind: 'range-rejected'; readonly status: number }
  /** An HTTP status other than a body (a missing file is a 404, an unreadable one a 403). */
  | { readonly kind: 'status'; readonly status: number };

/**
 * Opens `http(s)://` URLs with the global `fetch`, `file://` URLs with the file system. Node's fetch ignores
 * `HTTP(S)_PROXY`; a caller that needs a proxy passes a URL of its own.
 */
export async function openUrl(req: OpenRequest): Promise<Opened> {
  const protocol = new URL(req.url).protocol;
  if (protocol === 'file:') return openFile(req);
  if (protocol === 'http:' || protocol === 'https:') return openHttp(req);
  throw new TypeError(`unsupported URL scheme ${protocol}`);
}

const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);
const FORBIDDEN = new Set(['EACCES', 'EPERM']);

/**
 * A file read from an offset. A missing path or a directory answers 404 like a web server would, which is what
 * ends tuf-js's root-rotation walk in a repository on disk (offline updates, `notsotuf verify`).
 */
async function openFile(req: OpenRequest): Promise<Opened> {
  let fh: FileHandle;
  try {
    fh = await open(fileURLToPath(req.url), 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (NOT_FOUND.has(code)) return { kind: 'status', status: 404 };
    if (FORBIDDEN.has(code)) return { kind: 'status', status: 403 };
    throw err;
  }
  try {
    // Opened first, then checked: what is read is the file that was checked, not one swapped in between.
    const info = await fh.stat();
    if (!info.isFile()) {
      await fh.close();
      return { kind: 'status', status: 404 };
    }
    if (req.offset > info.size) {
      await fh.close();
      return { kind: 'range-rejected', status: 416 };
    }
    const body = fh.createReadStream({ start: req.offset });
    return { kind: 'body', start: req.offset, length: info.size - req.offset, body };
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

/** `bytes <start>-<end>/<size|*>` → start; undefined when malformed. */
export function contentRangeStart(header: string | null): number | undefined {
  const m = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

async function openHttp(req: OpenRequest): Promise<Opened> {
  const headers = new Headers(req.headers);
  if (req.userAgent !== undefined) headers.set('User-Agent', req.userAgent);
  // Offsets count bytes of the file itself: a compressed transfer would make them meaningless (and fetch would
  // silently inflate a .tar.gz that a misconfigured server marks `Content-Encoding: gzip`).
  headers.set('Accept-Encoding', 'identity');
  if (req.offset > 0) headers.set('Range', `bytes=${req.offset}-`);
  const res = await fetch(req.url, { headers, signal: req.signal ?? null, redirect: 'follow' });
  const discard = () => res.body?.cancel().catch(() => {});

  if (
    res.status === 200 ||
    (res.status === 206 && contentRangeStart(res.headers.get('content-range')) === req.offset)
  ) {
    const start = res.status === 200 ? 0 : req.offset;
    const declared = res.headers.get('content-length');
    const length =
      declared !== null && /^\d+$/.test(declared) && !res.headers.has('content-encoding')
        ? Number(declared)
        : undefined;
    const body = res.body
      ? Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>)
      : Readable.from([] as Uint8Array[]);
    return { kind: 'body', start, length, body };
  }
  await discard();
  if (res.status === 206 || (res.status === 416 && req.offset > 0)) {
    return { kind: 'range-rejected', status: res.status };
  }
  return { kind: 'status', status: res.status };
}
