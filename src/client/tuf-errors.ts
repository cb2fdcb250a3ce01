/**
 * The boundary between tuf-js and notsotuf: every error tuf-js throws becomes a NotsotufError with a code a
 * caller can act on. tuf-js wraps snapshot and targets failures into a RuntimeError whose message holds the
 * original error as text (its type is lost), so the classification also reads the message; a failure of our own
 * fetcher is taken from the fetcher itself.
 */
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { type ErrorCode, NotsotufError } from '../core/errors.js';

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

const RULES: readonly [RegExp, ErrorCode][] = [
  [/is expired/i, 'METADATA_EXPIRED'],
  [/version/i, 'METADATA_ROLLBACK'],
  [/signed by|signature|public key found/i, 'METADATA_SIGNATURE_INVALID'],
  [/Max length reached|length mismatch/i, 'DOWNLOAD_TOO_LARGE'],
  [/Expected (length|hash)|Hash algorithm/i, 'TARGET_VERIFY_FAILED'],
  [/Failed to download|DownloadHTTPError/i, 'DOWNLOAD_FAILED'],
];

/**
 * Maps an error thrown while tuf-js refreshed metadata or downloaded a target. `fetchFailure` is the last error
 * our fetcher threw during the operation; a tuf-js wrapper around it is unwrapped to it.
 */
export function fromTufError(
  err: unknown,
  stage: 'refresh' | 'download',
  fetchFailure?: NotsotufError,
): NotsotufError {
  if (err instanceof NotsotufError) return err;
  if (err instanceof DownloadHTTPError) {
    // Our fetcher throws this for a file no mirror has; its own error names the URL and says what to check.
    if (fetchFailure && err.message.startsWith(`${String(fetchFailure.details['url'])}:`))
      return fetchFailure;
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
  const text = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
  if (fetchFailure && /NotsotufError|Unable to load/.test(text) && text.includes(fetchFailure.message)) {
    return fetchFailure;
  }
  let code: ErrorCode = stage === 'download' ? 'TARGET_VERIFY_FAILED' : 'METADATA_INVALID';
  for (const [pattern, mapped] of RULES) {
    if (pattern.test(text)) {
      code = mapped;
      break;
    }
  }
  // A length or hash mismatch of metadata is a metadata problem, not a target one.
  if (code === 'TARGET_VERIFY_FAILED' && stage === 'refresh') code = 'METADATA_INVALID';
  const what = stage === 'refresh' ? 'Updating the trusted metadata failed' : 'Downloading a target failed';
  return new NotsotufError(code, `${what}: ${err instanceof Error ? err.message : text}`, {
    cause: err,
    ...(HINTS[code] ? { hint: HINTS[code] } : {}),
  });
}
