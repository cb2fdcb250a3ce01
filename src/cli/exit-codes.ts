/** Exit codes of the notsotuf CLI (documented in the README; scripts rely on them). */
import type { NotsotufError } from '../core/errors.js';
import { UsageError } from './usage-error.js';

export const EXIT = {
  /** Success. For `refresh`: nothing needed refreshing. */
  OK: 0,
  /** The command failed; the error code and hint are printed (and in --json output). */
  FAILURE: 1,
  /** `refresh` re-signed something: publish the repository. */
  CHANGED: 2,
  /** Bad command-line usage (unknown option, missing argument). */
  USAGE: 64,
  /** INTERNAL_ERROR: a bug in notsotuf (EX_SOFTWARE of sysexits.h, as USAGE is EX_USAGE); report it. */
  INTERNAL: 70,
} as const;

/** The exit code of a command that failed with `err`. */
export function exitCodeFor(err: NotsotufError): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  return err.code === 'INTERNAL_ERROR' ? EXIT.INTERNAL : EXIT.FAILURE;
}
