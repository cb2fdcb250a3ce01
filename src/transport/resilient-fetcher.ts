import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotsotufError } from '../core/errors.js';
import { BaseFetcher } from '../tufjs/index.js';
import {
  type AttemptFailure,
  abortedError,
  finalError,
  isTransient,
  type MirrorFailure,
} from './failures.js';
import { DEFAULT_FETCHER_OPTIONS, type DownloadProgress, type FetcherOptions } from './fetcher-options.js';
import { lengthMeter, TooLarge } from './meter.js';
import { type MirrorSource, mirrorUrlsFor, normalizeMirror } from './mirrors.js';
import { openUrl } from './open-url.js';
import { FileSink, MemorySink, partialLocation, type Sink } from './sinks.js';

type FileHandler<T> = (path: string) => Promise<T>;

/** One download as the attempts see it. */
interface Operation {
  readonly url: string;
  readonly maxLength: number;
  readonly signal: AbortSignal | undefined;
  /** Resume with a Range request from the bytes held (targets), or start each attempt from zero (metadata). */
  readonly resume: boolean;
  readonly progress: ((p: DownloadProgress) => void) | undefined;
}

/** Partial-file failures after which the bytes are worth keeping for a later run. */
const KEEP_PARTIAL = new Set(['ABORTED', 'DOWNLOAD_STALLED', 'DOWNLOAD_FAILED']);

/**
 * The fetcher the notsotuf client gives tuf-js: mirrors tried in order, retries with backoff, a stall (idle)
 * timeout, byte caps enforced as data arrives, and target downloads resumed with `Range` within a run and, with
 * `partialDir`, across runs.
 *
 * tuf-js builds every URL from the first mirror ({@link metadataBaseUrl}, {@link targetBaseUrl}); each request is
 * mapped onto every mirror. Errors thrown: tuf-js's `DownloadHTTPError` (403/404) when a mirror says the file is
 * not there and no other delivers it — the end of tuf-js's root-rotation walk — and otherwise NotsotufError
 * `DOWNLOAD_FAILED`, `DOWNLOAD_STALLED`, `DOWNLOAD_TOO_LARGE`, `ABORTED` or `IO_ERROR`.
 *
 * @example
 * const fetcher = new ResilientFetcher([{ metadataUrl: 'https://example.com/metadata', targetsUrl: 'https://example.com/targets' }]);
 * const updater = new Updater({ metadataDir, targetDir, fetcher,
 *   metadataBaseUrl: fetcher.metadataBaseUrl, targetBaseUrl: fetcher.targetBaseUrl });
 *
 * @throws NotsotufError `INVALID_ARGUMENT` (constructor) for no mirror, a bad location or a bad option.
 */
export class ResilientFetcher extends BaseFetcher {
  /** Aborts every request at once (NotsotufError `ABORTED`); set by the client for each operation. */
  signal: AbortSignal | undefined;
  /** Called for each chunk of a target download; set by the client for each operation. */
  onProgress: ((p: DownloadProgress) => void) | undefined;
  /**
   * The failure of the latest download, when it failed (undefined after a success). tuf-js pastes snapshot and
   * targets download errors into a plain RuntimeError, so this is where the client finds the real cause.
   */
  lastFailure: NotsotufError | undefined;
  /** The first mirror's metadata URL (normalised, ending in `/`): give it to tuf-js's Updater. */
  readonly metadataBaseUrl: string;
  /** The first mirror's targets URL (normalised, ending in `/`): give it to tuf-js's Updater. */
  readonly targetBaseUrl: string;

  private readonly mirrors: readonly MirrorSource[];
  private readonly stallTimeoutMs: number;
  private readonly minBytesPerSecond: number;
  private readonly retries: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly userAgent: string;
  private readonly partialDir: string | undefined;

  constructor(mirrors: readonly MirrorSource[], options: FetcherOptions = {}) {
    super();
    this.mirrors = mirrors.map(normalizeMirror);
    const first = this.mirrors[0];
    if (!first) throw invalidOption('At least one mirror is needed.');
    this.metadataBaseUrl = first.metadataUrl;
    this.targetBaseUrl = first.targetsUrl;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_FETCHER_OPTIONS.stallTimeoutMs;
    this.retries = options.retries ?? DEFAULT_FETCHER_OPTIONS.retries;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_FETCHER_OPTIONS.retryDelayMs;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_FETCHER_OPTIONS.maxAttempts;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw invalidOption('maxAttempts must be an integer ≥ 1.');
    if (!(this.stallTimeoutMs > 0)) throw invalidOption('stallTimeoutMs must be above 0.');
    this.minBytesPerSecond = options.minBytesPerSecond ?? DEFAULT_FETCHER_OPTIONS.minBytesPerSecond;
    if (!(this.minBytesPerSecond >= 0)) throw invalidOption('minBytesPerSecond must be ≥ 0.');
    if (!Number.isInteger(this.retries) || this.retries < 0)
      throw invalidOption('retries must be an integer ≥ 0.');
    if (!(this.retryDelayMs >= 0)) throw invalidOption('retryDelayMs must be ≥ 0.');
    this.headers = { ...options.headers };
    this.userAgent = options.userAgent ?? DEFAULT_FETCHER_OPTIONS.userAgent;
    this.partialDir = options.partialDir;
  }

  /**
   * Metadata: the body in memory, never more than `maxLength` bytes. A failed attempt starts over from zero
   * (metadata is small, and `timestamp.json` may change between two requests).
   * @throws DownloadHTTPError 403/404; NotsotufError `DOWNLOAD_*`, `ABORTED`.
   */
  override async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const sink = new MemorySink();
    await this.transfer(this.operation(url, maxLength, false), sink);
    return sink.bytes();
  }

  /**
   * A target: streamed to a partial file, resumed after a failure, then given to `handler` (tuf-js checks length
   * and hashes and copies it). A resumed file the handler rejects is downloaded once more from zero: the file may
   * have changed under the same URL, and resumed bytes are never trusted more than fresh ones.
   * @throws DownloadHTTPError 403/404; NotsotufError `DOWNLOAD_*`, `ABORTED`, `IO_ERROR`; the handler's errors.
   */
  override async downloadFile<T>(url: string, maxLength: number, handler: FileHandler<T>): Promise<T> {
    const op = this.operation(url, maxLength, true);
    const { path, dispose } = await this.record(partialLocation(this.partialDir, url, maxLength));
    try {
      for (let pass = 1; ; pass++) {
        const sink = await this.record(FileSink.open(path, maxLength));
        // A partial as long as the file means an earlier run got it all; the handler judges it like any other.
        if (sink.size < maxLength) {
          try {
            await this.transfer(op, sink);
          } catch (err) {
            if (!(err instanceof NotsotufError && KEEP_PARTIAL.has(err.code)))
              await rm(path, { force: true });
            throw err;
          }
        }
        try {
          const result = await handler(path);
          await rm(path, { force: true });
          return result;
        } catch (err) {
          await rm(path, { force: true });
          if (!sink.resumed || pass > 1) throw err;
        }
      }
    } finally {
      await dispose();
    }
  }

  /** The whole body of the first mirror that has one, without caps or resuming; tuf-js 5 does not call it here. */
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    this.lastFailure = undefined;
    const failures: MirrorFailure[] = [];
    for (const mirrorUrl of mirrorUrlsFor(url, this.mirrors)) {
      try {
        const opened = await openUrl({
          ...this.requestBase(),
          url: mirrorUrl,
          offset: 0,
          signal: this.signal,
        });
        if (opened.kind === 'body')
          return Readable.toWeb(opened.body) as ReadableStream<Uint8Array<ArrayBuffer>>;
        failures.push({ kind: 'status', status: opened.status, url: mirrorUrl, attempts: 1 });
      } catch (err) {
        if (this.signal?.aborted) throw this.fail(abortedError(url, this.signal.reason));
        failures.push({ kind: 'network', cause: err, url: mirrorUrl, attempts: 1 });
      }
    }
    throw this.finish(failures, 0);
  }

  private operation(url: string, maxLength: number, resume: boolean): Operation {
    this.lastFailure = undefined;
    return { url, maxLength, signal: this.signal, resume, progress: resume ? this.onProgress : undefined };
  }

  private requestBase() {
    return { headers: this.headers, userAgent: this.userAgent };
  }

  /** Remembers a NotsotufError as `lastFailure` on its way out. */
  private async record<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      throw this.fail(err);
    }
  }

  private fail<E>(err: E): E {
    if (err instanceof NotsotufError) this.lastFailure = err;
    return err;
  }

  private finish(failures: readonly MirrorFailure[], maxLength: number): Error {
    const { thrown, failure } = finalError(failures, { stallTimeoutMs: this.stallTimeoutMs, maxLength });
    this.lastFailure = failure;
    return thrown;
  }

  /** Every mirror in order until one delivers the whole body into `sink`. */
  private async transfer(op: Operation, sink: Sink): Promise<void> {
    const failures: MirrorFailure[] = [];
    try {
      for (const url of mirrorUrlsFor(op.url, this.mirrors)) {
        const failure = await this.fromMirror(url, op, sink);
        if (!failure) return;
        failures.push(failure);
        // Bytes from a mirror that sent too much are not resumed from on the next one.
        if (failure.kind === 'too-large') await sink.truncate();
      }
    } catch (err) {
      throw this.fail(err);
    }
    throw this.finish(failures, op.maxLength);
  }

  /** Attempts on one mirror: retried while transient; undefined once the body is complete. */
  private async fromMirror(url: string, op: Operation, sink: Sink): Promise<MirrorFailure | undefined> {
    let best = sink.size;
    let withoutProgress = 0;
    for (let attempts = 1; ; attempts++) {
      const failure = await this.attempt(url, op, sink);
      if (!failure) return undefined;
      if (sink.size > best) {
        best = sink.size;
        withoutProgress = 0;
      } else {
        withoutProgress++;
      }
      if (!isTransient(failure) || withoutProgress > this.retries || attempts >= this.maxAttempts) {
        return { ...failure, url, attempts };
      }
      const delay = this.retryDelayMs * 2 ** Math.max(0, withoutProgress - 1) * (1 + Math.random() * 0.2);
      try {
        await sleep(delay, undefined, op.signal ? { signal: op.signal } : {});
      } catch {
        throw abortedError(op.url, op.signal?.reason);
      }
    }
  }

  /**
   * One request from the bytes held. Failures worth judging are returned; an abort by the caller and a local
   * write failure are thrown.
   */
  private async attempt(url: string, op: Operation, sink: Sink): Promise<AttemptFailure | undefined> {
    if (op.signal?.aborted) throw abortedError(op.url, op.signal.reason);
    const stall = new AbortController();
    const signal = op.signal ? AbortSignal.any([op.signal, stall.signal]) : stall.signal;
    // Idle timer: restarted by every chunk, so a slow but steady download never trips it.
    const timer = setTimeout(() => stall.abort(), this.stallTimeoutMs);
    // Throughput floor: each window must bring at least its share of bytes once the body flows.
    let windowBytes = 0;
    let flowing = false;
    const floor = (this.minBytesPerSecond * this.stallTimeoutMs) / 1000;
    const slow = setInterval(() => {
      if (flowing && windowBytes < floor) stall.abort();
      windowBytes = 0;
    }, this.stallTimeoutMs);
    try {
      const request = { ...this.requestBase(), url, signal };
      let opened = await openUrl({ ...request, offset: op.resume ? sink.size : 0 });
      if (opened.kind === 'range-rejected') {
        // 416, or a 206 for another range than asked: whatever we hold cannot be continued here.
        await sink.truncate();
        opened = await openUrl({ ...request, offset: 0 });
      }
      if (opened.kind !== 'body') return { kind: 'status', status: opened.status };
      // A 200 to a range request: the server ignores ranges and sends the file from its start.
      if (opened.start !== sink.size) await sink.truncate();
      if (opened.length !== undefined && opened.start + opened.length > op.maxLength) {
        opened.body.destroy();
        return { kind: 'too-large' };
      }
      timer.refresh();
      flowing = true;
      windowBytes = 0;
      await sink.append(
        opened.body,
        lengthMeter(op, sink.size, (n) => {
          windowBytes += n;
          timer.refresh();
        }),
        signal,
      );
      return undefined;
    } catch (err) {
      if (op.signal?.aborted) throw abortedError(op.url, op.signal.reason);
      if (err instanceof TooLarge) return { kind: 'too-large' };
      if (err instanceof NotsotufError) throw err;
      if (stall.signal.aborted) return { kind: 'stalled' };
      return { kind: 'network', cause: err };
    } finally {
      clearTimeout(timer);
      clearInterval(slow);
    }
  }
}

function invalidOption(message: string): NotsotufError {
  return new NotsotufError('INVALID_ARGUMENT', message, { hint: 'Check the options given to the fetcher.' });
}
