import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotsotufError } from '../core/errors.js';

/** Checks, counts and passes on each chunk of a body (the fetcher's length cap, stall timer and progress). */
export type Meter = (source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;

/** Where a download's bytes go: appended across attempts, dropped to start over. */
export interface Sink {
  /** Bytes held: what a resumed request starts from. */
  readonly size: number;
  /** Drops every byte held. @throws NotsotufError `IO_ERROR` */
  truncate(): Promise<void>;
  /**
   * Appends `body` through `meter`. On failure `size` still counts exactly the bytes that landed.
   * @throws NotsotufError `IO_ERROR` when the bytes cannot be stored; the body's own errors as they are.
   */
  append(body: Readable, meter: Meter, signal: AbortSignal): Promise<void>;
}

/**
 * body → meter → dest. When the body fails (connection dropped, stall, abort) the pipeline still ends normally,
 * so every byte that got through the meter is stored before the body's error is thrown: a resumed download
 * continues from all of them. When the meter or `dest` fails, everything is torn down at once.
 */
async function pump(body: Readable, meter: Meter, signal: AbortSignal, dest: Writable): Promise<void> {
  let bodyError: { error: unknown } | undefined;
  // An http body already fails with its request's signal; a file body needs to be told.
  const stop = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  // The body goes in as a plain iterable, not a stream: pipeline would otherwise tear `dest` down on its error.
  async function* guarded(): AsyncIterable<Buffer> {
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } catch (err) {
      bodyError = { error: err };
    }
  }
  try {
    await pipeline(guarded(), meter, dest);
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (bodyError) throw bodyError.error;
}

/** Metadata: small (the caller caps it), kept in memory. */
export class MemorySink implements Sink {
  private chunks: Buffer[] = [];
  size = 0;

  async truncate(): Promise<void> {
    this.chunks = [];
    this.size = 0;
  }

  async append(body: Readable, meter: Meter, signal: AbortSignal): Promise<void> {
    const collect = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.chunks.push(chunk);
        this.size += chunk.length;
        done();
      },
    });
    await pump(body, meter, signal, collect);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/**
 * The name of a resumable partial download: a digest of the URL (no path characters from the server end up in a
 * file name) and the expected length (a new release under the same URL with another length starts afresh).
 */
export function partialFileName(url: string, maxLength: number): string {
  return `${createHash('sha256').update(url).digest('hex').slice(0, 32)}-${maxLength}.part`;
}

/**
 * Where a target download is kept while it arrives. With `partialDir`: a stable name there, kept across runs (so
 * the next run resumes). Without: a temp file, removed by `dispose`.
 * @throws NotsotufError `IO_ERROR`
 */
export async function partialLocation(
  partialDir: string | undefined,
  url: string,
  maxLength: number,
): Promise<{ path: string; dispose(): Promise<void> }> {
  try {
    if (partialDir !== undefined) {
      await mkdir(partialDir, { recursive: true });
      return { path: join(partialDir, partialFileName(url, maxLength)), dispose: async () => {} };
    }
    const dir = await mkdtemp(join(tmpdir(), 'notsotuf-download-'));
    return { path: join(dir, 'download.part'), dispose: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    throw new NotsotufError('IO_ERROR', 'Could not create a file for the download.', {
      cause: err,
      ...(partialDir === undefined ? {} : { path: partialDir }),
      hint: 'Check that the directory is writable and that the disk is not full.',
    });
  }
}

function ioError(path: string, cause: unknown): NotsotufError {
  return new NotsotufError('IO_ERROR', `Could not write the download ${path}.`, {
    path,
    cause,
    hint: 'Check that the directory is writable and that the disk is not full.',
  });
}

/** A target: streamed to a file, appended to when a download resumes. */
export class FileSink implements Sink {
  /** True once bytes fetched earlier (another attempt, mirror or run) were kept and appended to. */
  resumed = false;

  private constructor(
    readonly path: string,
    public size: number,
  ) {}

  /**
   * The sink for `path`, resuming whatever an earlier run left there. A file longer than `maxLength` cannot be a
   * prefix of the wanted one and is emptied.
   * @throws NotsotufError `IO_ERROR`
   */
  static async open(path: string, maxLength: number): Promise<FileSink> {
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, err);
    }
    const sink = new FileSink(path, size);
    if (size > maxLength) await sink.truncate();
    sink.resumed = sink.size > 0;
    return sink;
  }

  async truncate(): Promise<void> {
    try {
      await truncate(this.path, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(this.path, err);
    }
    this.size = 0;
    this.resumed = false;
  }

  async append(body: Readable, meter: Meter, signal: AbortSignal): Promise<void> {
    if (this.size > 0) this.resumed = true;
    // Append mode: the file is always a prefix of the download, whatever was buffered when an attempt failed.
    const out = createWriteStream(this.path, { flags: 'a' });
    let writeError: unknown;
    out.once('error', (err) => {
      writeError = err;
    });
    let failure: { error: unknown } | undefined;
    try {
      await pump(body, meter, signal, out);
    } catch (err) {
      failure = { error: writeError === undefined ? err : ioError(this.path, writeError) };
    }
    // Count what really reached the file: only after the stream closed are all its writes done.
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
    try {
      this.size = (await stat(this.path)).size;
    } catch (err) {
      throw ioError(this.path, err);
    }
    if (failure) throw failure.error;
  }
}
