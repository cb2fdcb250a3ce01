/**
 * Foreign errors (Node's, a dependency's, a bug's) become a NotsotufError where they enter our code, and only three
 * kinds exist: an errno error from the operating system is IO_ERROR with a hint chosen by its errno, an abort is
 * ABORTED, and anything else (a TypeError, a RangeError, …) is a bug in notsotuf: INTERNAL_ERROR, which says so.
 * Calling a bug "disk full?" would send the user looking for a problem that is not there.
 */
import { aborted, isAbortError } from './aborted.js';
import { ERROR_CODES, NotsotufError } from './errors.js';

// What the user can do about each errno; the others get IO_ERROR's default hint.
const ERRNO_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'The disk is full: free some space, then try again.',
  EDQUOT: 'The disk quota of this user is used up: free some space, then try again.',
  EFBIG: 'A file grew past the size this process may write (ulimit -f, or the file system): raise the limit.',
  EACCES:
    'Permission denied: check that this user may write the file or directory concerned, or run as its owner.',
  EPERM:
    'Operation not permitted: check the owner and permissions of the file concerned, or run as its owner.',
  EROFS: 'The file system is read-only: use a writable location, or remount it read-write.',
  EMFILE: 'Too many open files: raise the limit (ulimit -n) or close other programs, then try again.',
  ENFILE: 'Too many open files on this computer: close other programs, then try again.',
  EBUSY: 'A file is in use by another program: close it, then try again.',
  ETXTBSY: 'A program file is running: quit it, then try again.',
  ENOENT: 'A file or directory is missing (removed by another program?): check the path, then try again.',
  ENOTDIR: 'A path that should be a directory is a file: check the paths given, then try again.',
  EISDIR: 'A path that should be a file is a directory: check the paths given, then try again.',
  ENAMETOOLONG: 'A path is too long for the file system: use a shorter directory.',
  EIO: 'The disk reported a read or write error: check the disk and its connection, then try again.',
};

/** The errno code (`ENOSPC`, `EACCES`, …) of an error from the operating system, else undefined. */
export function errnoCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  // Node's own non-errno codes start with ERR_ (ERR_INVALID_ARG_TYPE is a bug, not the disk); zlib's with Z_.
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** The hint for a failed file operation, chosen by its errno code. */
export function errnoHint(code: string | undefined): string {
  return (code === undefined ? undefined : ERRNO_HINTS[code]) ?? ERROR_CODES.IO_ERROR.hint;
}

/**
 * The INTERNAL_ERROR for a bug in notsotuf: the message says so, the error that revealed it is the cause, and
 * `details.cause` names it ("TypeError: …") so that `toJSON()` output, which has no cause, is enough for a report.
 */
export function internalError(message: string, cause?: unknown): NotsotufError {
  return new NotsotufError('INTERNAL_ERROR', `${message} This is a bug in notsotuf; please report it.`, {
    ...(cause === undefined ? {} : { cause, details: { cause: describeCause(cause) } }),
    hint: ERROR_CODES.INTERNAL_ERROR.hint,
  });
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

export interface ForeignErrorOptions {
  /** The operation's signal: once it fired, any failure is ABORTED (the caller's reason may be any value). */
  readonly signal?: AbortSignal | undefined;
  /** The message of an IO_ERROR. Default: "<what> failed on a file operation (<errno>, <path>)." */
  readonly ioMessage?: string;
  /** The file concerned when the error itself does not name one. */
  readonly path?: string;
}

/**
 * The NotsotufError for any error thrown while `what` ran (e.g. "The update", "Extracting app.tar"). A
 * NotsotufError is returned as it is.
 */
export function wrapForeignError(
  err: unknown,
  what: string,
  options: ForeignErrorOptions = {},
): NotsotufError {
  if (err instanceof NotsotufError) return err;
  if (options.signal?.aborted || isAbortError(err)) return aborted(`${what} was aborted.`, { cause: err });
  const errno = errnoCodeOf(err);
  if (errno === undefined) return internalError(`${what} failed unexpectedly.`, err);
  const { path: errPath, syscall } = err as NodeJS.ErrnoException;
  const path = typeof errPath === 'string' ? errPath : options.path;
  return new NotsotufError(
    'IO_ERROR',
    options.ioMessage ??
      `${what} failed on a file operation (${errno}${path === undefined ? '' : `, ${path}`}).`,
    {
      cause: err,
      hint: errnoHint(errno),
      ...(path === undefined ? {} : { path }),
      details: { errno, ...(typeof syscall === 'string' ? { syscall } : {}) },
    },
  );
}
