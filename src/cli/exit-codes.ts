/** Exit codes of the notsotuf CLI (documented in the README; scripts rely on them). */
export const EXIT = {
  /** Success. For `refresh`: nothing needed refreshing. */
  OK: 0,
  /** The command failed; the error code and hint are printed (and in --json output). */
  FAILURE: 1,
  /** `refresh` re-signed something: publish the repository. */
  CHANGED: 2,
  /** Bad command-line usage (unknown option, missing argument). */
  USAGE: 64,
} as const;
