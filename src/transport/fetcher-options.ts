import { readFileSync } from 'node:fs';

/**
 * `notsotuf/<version>`, the version of the installed notsotuf (or @notsotuf/client, which has the same). Read once,
 * when the module loads; a copy of these files outside either package says `notsotuf`.
 */
function defaultUserAgent(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    const ours = pkg.name === 'notsotuf' || pkg.name === '@notsotuf/client';
    return ours && typeof pkg.version === 'string' ? `notsotuf/${pkg.version}` : 'notsotuf';
  } catch {
    return 'notsotuf';
  }
}

export interface FetcherOptions {
  /** Abort a request when no byte arrived for this long (idle time, not the whole request). Default 30 000. */
  stallTimeoutMs?: number;
  /**
   * Slowest transfer accepted, averaged over each `stallTimeoutMs` window: a server trickling a byte just often
   * enough to dodge the idle timeout (a slow-retrieval attack) is cut off like a stalled one. Default 1024.
   */
  minBytesPerSecond?: number;
  /**
   * Extra attempts per mirror for transient failures (network, stall, HTTP 5xx/408/429). An attempt that got the
   * download further than any before it does not count: a large file on a flaky link keeps going. Default 3.
   */
  retries?: number;
  /**
   * Most attempts per mirror for one file, progress or not. Resuming after progress is free under `retries`, so
   * without this bound a server that sends a few bytes per stall period (a slow-retrieval attack) would hold the
   * client forever. Default 20.
   */
  maxAttempts?: number;
  /** Wait before the first retry, doubled for each further one, plus a little jitter. Default 500. */
  retryDelayMs?: number;
  /** Extra headers (authorization) on every http(s) request. */
  headers?: Readonly<Record<string, string>>;
  /** Default `notsotuf/<version>` (DEFAULT_FETCHER_OPTIONS.userAgent). */
  userAgent?: string;
  /** Where partial target downloads are kept across runs; without it only the current run can resume. */
  partialDir?: string;
}

/** Defaults of {@link FetcherOptions}: the one table of transport defaults, for the client and the publisher. */
export const DEFAULT_FETCHER_OPTIONS = {
  stallTimeoutMs: 30_000,
  minBytesPerSecond: 1024,
  retries: 3,
  maxAttempts: 20,
  retryDelayMs: 500,
  userAgent: defaultUserAgent(),
} as const;

/** One chunk of a target download arrived. */
export interface DownloadProgress {
  /** The URL tuf-js asked for (of the first mirror, whichever mirror serves it). */
  readonly url: string;
  /** Bytes of the file so far, resumed bytes included (it drops back when a download starts over). */
  readonly bytes: number;
  /** The expected length (the target's signed length). */
  readonly total: number;
  /** Bytes in this chunk. */
  readonly delta: number;
}
