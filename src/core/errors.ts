/**
 * The one error type of notsotuf. Every failure the library reports is a NotsotufError with a stable `code`
 * (public API: codes are added, never renamed) and a `hint` that tells the user what to do next.
 */

/** Every error code notsotuf can report. */
export type ErrorCode =
  // invalid input given by the caller
  | 'INVALID_ARGUMENT'
  | 'VERSION_INVALID'
  | 'APP_NAME_INVALID'
  | 'TARGET_NAME_INVALID'
  | 'PLATFORM_INVALID'
  // config file
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_EXISTS'
  // keys and passphrases
  | 'KEY_NOT_FOUND'
  | 'KEY_INVALID'
  | 'KEY_EXISTS'
  | 'KEY_DECRYPT_FAILED'
  | 'PASSPHRASE_REQUIRED'
  | 'KEY_NOT_IN_ROLE'
  | 'KEY_IN_USE'
  // metadata and signatures
  | 'METADATA_INVALID'
  | 'METADATA_NOT_FOUND'
  | 'METADATA_EXPIRED'
  | 'THRESHOLD_NOT_MET'
  | 'THRESHOLD_INVALID'
  | 'STAGED_CHANGE_PENDING'
  | 'NOTHING_STAGED'
  // repository and releases
  | 'REPO_NOT_INITIALIZED'
  | 'REPO_EXISTS'
  | 'REPO_LOCKED'
  | 'RELEASE_EXISTS'
  | 'RELEASE_NOT_FOUND'
  | 'VERSION_NOT_NEWER'
  | 'TUFUP_INCOMPATIBLE'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_UNSAFE_LINK'
  | 'BUNDLE_SPECIAL_FILE'
  | 'VERIFY_FAILED'
  | 'TARGET_FILE_MISSING'
  | 'TARGET_FILE_MISMATCH'
  // patches
  | 'PATCH_INVALID'
  | 'PATCH_CODEC_UNKNOWN'
  | 'PATCH_RESULT_MISMATCH'
  // client: metadata and downloads
  | 'METADATA_ROLLBACK'
  | 'METADATA_SIGNATURE_INVALID'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_STALLED'
  | 'DOWNLOAD_TOO_LARGE'
  | 'TARGET_VERIFY_FAILED'
  | 'UPDATE_NOT_CHECKED'
  | 'APP_NOT_FOUND'
  | 'CACHE_LOCKED'
  // archives being extracted
  | 'ARCHIVE_INVALID'
  | 'ARCHIVE_UNSAFE'
  // installing
  | 'INSTALL_FAILED'
  | 'INSTALL_ROOT_NOT_EMPTY'
  | 'ALREADY_INSTALLED'
  // environment
  | 'DESTINATION_INVALID'
  | 'STORAGE_FAILED'
  | 'STORAGE_LOCKED'
  | 'PUBLISH_VERIFY_FAILED'
  | 'PUBLISH_CONFLICT'
  | 'PULL_CONFLICT'
  | 'PULL_UNSAFE_PATH'
  | 'IO_ERROR'
  | 'ABORTED';

export interface NotsotufErrorOptions {
  /** What the user can do about it; shown by the CLI under the message. */
  hint?: string;
  /** The foreign error this one wraps. */
  cause?: unknown;
  /** The file or directory concerned, when there is one. */
  path?: string;
  /** Extra machine-readable facts (key name, role, version, ...). */
  details?: Record<string, unknown>;
}

export class NotsotufError extends Error {
  override readonly name: string = 'NotsotufError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly path: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: NotsotufErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
    this.details = options.details ?? {};
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
    };
  }
}

/** True when `err` is a NotsotufError, optionally with the given code. */
export function isNotsotufError(err: unknown, code?: ErrorCode): err is NotsotufError {
  return err instanceof NotsotufError && (code === undefined || err.code === code);
}
