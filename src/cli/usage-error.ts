/**
 * Bad command-line usage found while reading options (a malformed value, an unknown choice): reported like any
 * NotsotufError (code, message, hint; `--json`), but with the usage exit code (64), as commander's own errors.
 */
import { type ErrorCode, NotsotufError } from '../core/errors.js';

export class UsageError extends NotsotufError {
  override readonly name: string = 'UsageError';
}

/** A usage error with code INVALID_ARGUMENT (or the given one). */
export function usageError(message: string, hint?: string, code: ErrorCode = 'INVALID_ARGUMENT'): UsageError {
  return new UsageError(code, message, hint === undefined ? {} : { hint });
}

/** Runs a check of an option value; a NotsotufError it throws becomes a usage error with the same code and hint. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof NotsotufError && !(err instanceof UsageError)) {
      throw new UsageError(err.code, err.message, {
        ...(err.hint === undefined ? {} : { hint: err.hint }),
        details: err.details,
      });
    }
    throw err;
  }
}
