/**
 * The boundary between tuf-js and notsotuf: every error tuf-js throws becomes a NotsotufError with a code a
 * caller can act on (see classify.ts), the original as its `cause`. A failure of our own fetcher, which tuf-js
 * may have wrapped on its way out, is given back as the fetcher reported it.
 */
// tuf-js 5 exports none of its error classes from its index (and has no `exports` map): this is the one deep
// import, kept here so that a tuf-js upgrade that moves the file breaks one place.
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { type ErrorCode, NotsotufError } from '../core/errors.js';
import { classifyTufError, type TufStage, wrappedErrorText } from './classify.js';

const HINTS: Partial<Record<ErrorCode, string>> = {
  METADATA_EXPIRED:
    'The repository has not been refreshed in time (or this computer clock is wrong). Ask the publisher to run `notsotuf refresh`.',
  METADATA_ROLLBACK:
    'The server offers older metadata than this client already trusts (a rollback attack or a restored backup). Nothing was installed.',
  METADATA_SIGNATURE_INVALID:
    'The metadata is not signed by the keys this app trusts. Nothing was installed; report it to the publisher.',
  TARGET_VERIFY_FAILED:
    'The downloaded file does not match the signed metadata (a tampered server or mirror). Nothing was installed.',
  METADATA_INVALID: 'The repository metadata could not be verified. Nothing was installed.',
  DOWNLOAD_TOO_LARGE: 'The server sent more data than the signed metadata allows. Nothing was installed.',
  DOWNLOAD_FAILED: 'Check the network connection and the repository URL, then try again.',
};

/**
 * The error a fetcher throws for a file the server does not have (403/404). It must be tuf-js's own class: it is
 * the only error that ends the root-rotation walk (client workflow 5.3.3, "N+1.root.json is not there: N is the
 * newest"), and tuf-js checks it with `instanceof`.
 */
export function fileNotThereError(message: string, status: number): Error {
  return new DownloadHTTPError(message, status);
}

/**
 * True when `err` is the fetcher's `failure` as it reached tuf-js: the NotsotufError itself, or the
 * DownloadHTTPError thrown for the same URL (see {@link fileNotThereError}), directly or in tuf-js's wrapper.
 */
function isFetchFailure(err: unknown, failure: NotsotufError): boolean {
  const url = failure.details['url'];
  const notThere = typeof url === 'string' ? `${url}: HTTP ` : undefined;
  if (err instanceof DownloadHTTPError) return notThere !== undefined && err.message.startsWith(notThere);
  const inner = wrappedErrorText(err);
  if (inner === undefined) return false;
  return (
    inner === `${failure.name}: ${failure.message}` ||
    (notThere !== undefined && inner.startsWith(`Error: ${notThere}`))
  );
}

/**
 * Maps an error thrown while tuf-js refreshed metadata or downloaded a target. `fetchFailure` is the last error
 * our fetcher reported during the operation; a tuf-js error that carries it is unwrapped to it.
 *
 * Codes: METADATA_EXPIRED, METADATA_ROLLBACK, METADATA_SIGNATURE_INVALID, METADATA_INVALID, TARGET_VERIFY_FAILED,
 * DOWNLOAD_FAILED, DOWNLOAD_TOO_LARGE, IO_ERROR; a NotsotufError (the fetcher's own) is returned as it is.
 */
export function fromTufError(err: unknown, stage: TufStage, fetchFailure?: NotsotufError): NotsotufError {
  if (err instanceof NotsotufError) return err;
  if (fetchFailure && isFetchFailure(err, fetchFailure)) return fetchFailure;
  if (err instanceof DownloadHTTPError) {
    return new NotsotufError(
      'DOWNLOAD_FAILED',
      `The server answered HTTP ${err.statusCode}: ${err.message}`,
      {
        cause: err,
        hint: HINTS.DOWNLOAD_FAILED,
        details: { status: err.statusCode },
      },
    );
  }
  const code = classifyTufError(err, stage);
  const what = stage === 'refresh' ? 'Updating the trusted metadata failed' : 'Downloading a target failed';
  return new NotsotufError(code, `${what}: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    ...(HINTS[code] ? { hint: HINTS[code] } : {}),
  });
}
