/**
 * The one way notsotuf reports that the caller's AbortSignal fired: NotsotufError ABORTED, with the default hint
 * from {@link ERROR_CODES} unless the caller knows better (e.g. "it resumes").
 */
import { ERROR_CODES, NotsotufError, type NotsotufErrorOptions } from './errors.js';

/** The ABORTED error. `message` says what stopped, e.g. "Extracting app.tar was aborted." */
export function aborted(
  message = 'The operation was aborted.',
  options: NotsotufErrorOptions = {},
): NotsotufError {
  return new NotsotufError('ABORTED', message, {
    ...options,
    hint: options.hint ?? ERROR_CODES.ABORTED.hint,
  });
}

/**
 * Throws ABORTED, with the signal's reason as cause, once `signal` has fired. Unlike `signal.throwIfAborted()`,
 * which throws whatever reason the caller gave, this always throws a NotsotufError.
 */
export function checkAborted(signal: AbortSignal | undefined, message?: string): void {
  if (signal?.aborted) throw aborted(message, { cause: signal.reason });
}

/** True for the error Node's streams, fetch and timers throw when their signal fires (a DOMException or Error). */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}
