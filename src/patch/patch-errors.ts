/** The NotsotufErrors patch codecs throw, with their hints in one place. */
import { NotsotufError } from '../core/index.js';

/** A malformed, truncated or inconsistent patch. */
export function patchInvalid(
  message: string,
  details: Record<string, unknown> = {},
  path?: string,
): NotsotufError {
  return new NotsotufError('PATCH_INVALID', message, {
    hint: 'The patch is corrupt or does not belong to this release; download the full archive instead.',
    details,
    ...(path === undefined ? {} : { path }),
  });
}

/** The caller's AbortSignal fired. */
export function patchAborted(): NotsotufError {
  return new NotsotufError('ABORTED', 'patch operation aborted', {
    hint: 'Run the operation again to finish it.',
  });
}

/** Throws ABORTED if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw patchAborted();
}

/** A file-system failure while reading or writing `path`. */
export function patchIoError(action: string, path: string, cause: unknown): NotsotufError {
  const code = (cause as { code?: unknown } | null)?.code;
  return new NotsotufError('IO_ERROR', `could not ${action} ${path}`, {
    hint: 'Check that the file exists, is readable, and that the disk has free space.',
    cause,
    path,
    ...(typeof code === 'string' ? { details: { code } } : {}),
  });
}
