import { aborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { fileNotThereError } from '../tufjs/index.js';

/** Why one attempt on one mirror did not deliver the whole body. */
export type AttemptFailure =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'network'; readonly cause: unknown }
  | { readonly kind: 'stalled' }
  | { readonly kind: 'too-large' };

/** Why one mirror did not deliver, after its retries. */
export type MirrorFailure = AttemptFailure & { readonly url: string; readonly attempts: number };

/**
 * Worth another attempt on the same mirror: the network, a stall, a server error, a timeout or rate limit.
 * Not: 404/403 (the file is not there), other 4xx (the request is wrong), too many bytes (the mirror is bad).
 */
export function isTransient(f: AttemptFailure): boolean {
  if (f.kind === 'network' || f.kind === 'stalled') return true;
  if (f.kind === 'status') return f.status >= 500 || f.status === 408 || f.status === 429;
  return false;
}

const NETWORK_HINT = 'Check the network connection and proxy settings, or try again later.';

/** The `code` (ECONNREFUSED, UND_ERR_SOCKET, …) of a network error or of its cause, for `details`. */
function reasonOf(cause: unknown): string | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return cause instanceof Error ? cause.name : undefined;
}

function describeMirror(f: MirrorFailure): Record<string, unknown> {
  return {
    url: f.url,
    failure: f.kind,
    attempts: f.attempts,
    ...(f.kind === 'status' ? { status: f.status } : {}),
    ...(f.kind === 'network' ? { reason: reasonOf(f.cause) } : {}),
  };
}

function plural(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

export interface FinalError {
  /** What the fetcher throws: a DownloadHTTPError for tuf-js, or the NotsotufError itself. */
  readonly thrown: Error;
  /** The cause in notsotuf's terms (the fetcher's `lastFailure`). */
  readonly failure: NotsotufError;
}

/**
 * The error for a request that no mirror delivered. When a mirror answered 404/403 and the others failed
 * otherwise (unreachable, broken, bad data), the answer is tuf-js's own DownloadHTTPError: that is the only error
 * that ends its root-rotation walk, and an unreachable mirror has no say about whether a file exists.
 */
export function finalError(
  failures: readonly MirrorFailure[],
  limits: { readonly stallTimeoutMs: number; readonly maxLength: number },
): FinalError {
  const mirrors = failures.length > 1 ? { mirrors: failures.map(describeMirror) } : {};
  const missing = failures.find((f) => f.kind === 'status' && (f.status === 404 || f.status === 403));
  if (missing?.kind === 'status') {
    const failure = new NotsotufError(
      'DOWNLOAD_FAILED',
      `${missing.url} is not there (HTTP ${missing.status}).`,
      {
        details: { url: missing.url, status: missing.status, attempts: missing.attempts, ...mirrors },
        hint: /\/(timestamp|1\.root)\.json$/.test(missing.url)
          ? 'Check the metadata URL (metadataUrl, --metadata-url): it must be the directory that holds the repository’s timestamp.json. If it is right, the repository is not published there yet.'
          : 'The repository or a mirror may be incomplete or still being updated; try again later.',
      },
    );
    const thrown = fileNotThereError(`${missing.url}: HTTP ${missing.status}`, missing.status);
    return { thrown, failure };
  }
  const f = failures[0];
  let failure: NotsotufError;
  if (!f) {
    failure = new NotsotufError('DOWNLOAD_FAILED', 'No mirror to download from.', { hint: NETWORK_HINT });
  } else if (f.kind === 'stalled') {
    failure = new NotsotufError(
      'DOWNLOAD_STALLED',
      `Download of ${f.url} stalled: no data for ${limits.stallTimeoutMs} ms (${plural(f.attempts)}).`,
      {
        details: { url: f.url, stallTimeoutMs: limits.stallTimeoutMs, attempts: f.attempts, ...mirrors },
        hint: NETWORK_HINT,
      },
    );
  } else if (f.kind === 'too-large') {
    failure = new NotsotufError(
      'DOWNLOAD_TOO_LARGE',
      `${f.url} sent more than the expected ${limits.maxLength} bytes.`,
      {
        details: { url: f.url, maxLength: limits.maxLength, ...mirrors },
        hint: 'The server or a proxy in between sends wrong data; try again later or tell the publisher.',
      },
    );
  } else if (f.kind === 'status') {
    failure = new NotsotufError(
      'DOWNLOAD_FAILED',
      `Could not download ${f.url}: HTTP ${f.status} (${plural(f.attempts)}).`,
      { details: { url: f.url, status: f.status, attempts: f.attempts, ...mirrors }, hint: NETWORK_HINT },
    );
  } else {
    failure = new NotsotufError(
      'DOWNLOAD_FAILED',
      `Could not download ${f.url}: network error (${plural(f.attempts)}).`,
      {
        cause: f.cause,
        details: { url: f.url, attempts: f.attempts, reason: reasonOf(f.cause), ...mirrors },
        hint: NETWORK_HINT,
      },
    );
  }
  return { thrown: failure, failure };
}

/** The caller's signal fired. */
export function abortedError(url: string, reason: unknown): NotsotufError {
  return aborted(`Download of ${url} was aborted.`, { cause: reason, details: { url } });
}
