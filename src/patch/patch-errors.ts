/**
 * The NotsotufErrors patch codecs throw. PATCH_INVALID is built here only (the codecs' own helpers add a prefix
 * naming the format), so every malformed patch carries the one hint of ERROR_CODES.
 */
import { checkAborted } from '../core/aborted.js';
import { ERROR_CODES, NotsotufError } from '../core/errors.js';
import { errnoCodeOf, errnoHint, wrapForeignError } from '../core/foreign-error.js';

/** A malformed, truncated or inconsistent patch (or compressed stream in one); `cause`: the error that showed it. */
export function patchInvalid(
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): NotsotufError {
  return new NotsotufError('PATCH_INVALID', message, {
    hint: ERROR_CODES.PATCH_INVALID.hint,
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throws ABORTED if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  checkAborted(signal, 'The patch operation was aborted.');
}

/** A file-system failure while reading or writing `path`. */
export function patchIoError(action: string, path: string, cause: unknown): NotsotufError {
  const code = (cause as { code?: unknown } | null)?.code;
  return new NotsotufError('IO_ERROR', `could not ${action} ${path}`, {
    hint: errnoHint(errnoCodeOf(cause)),
    cause,
    path,
    ...(typeof code === 'string' ? { details: { code } } : {}),
  });
}

/**
 * Any error that ends a patch operation on `path`: a NotsotufError as it is, a file-system error as
 * {@link patchIoError}, an abort as ABORTED, and anything else as INTERNAL_ERROR (a bug, not the disk).
 */
export function patchFailure(action: string, path: string, err: unknown): NotsotufError {
  if (!(err instanceof NotsotufError) && errnoCodeOf(err) !== undefined)
    return patchIoError(action, path, err);
  return wrapForeignError(err, `The patch operation on ${path}`);
}
