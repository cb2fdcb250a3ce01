/**
 * The one error type of notsotuf. Every failure the library reports is a NotsotufError with a stable `code`
 * (public API: codes are added, never renamed) and a `hint` that tells the user what to do next.
 */

/** What notsotuf knows about one error code. */
export interface ErrorCodeInfo {
  /** The hint for when the error has no more specific one: what the user can do next. */
  readonly hint: string;
  /** Where the code is documented: a section of docs/errors.md (the README links there). */
  readonly docs: string;
  /** Set on a code nothing reports yet; it stays, since codes are never removed. */
  readonly reserved?: true;
}

const INPUT = 'docs/errors.md#invalid-input';
const CONFIG = 'docs/errors.md#config-file';
const KEYS = 'docs/errors.md#keys-and-passphrases';
const METADATA = 'docs/errors.md#metadata-and-signatures';
const REPO = 'docs/errors.md#repository-and-releases';
const PATCHES = 'docs/errors.md#patches';
const CLIENT = 'docs/errors.md#client-metadata-and-downloads';
const ARCHIVES = 'docs/errors.md#archives';
const INSTALL = 'docs/errors.md#installing';
const STORAGE = 'docs/errors.md#storage-and-publishing';
const ENVIRONMENT = 'docs/errors.md#environment-and-bugs';

/**
 * Every error code notsotuf can report, with its default hint and where it is documented. The one source of
 * truth: {@link ErrorCode} is derived from it, and a test checks each code against the docs and the sources.
 */
export const ERROR_CODES = {
  // invalid input given by the caller
  INVALID_ARGUMENT: { hint: 'Fix the option or argument the message names.', docs: INPUT },
  VERSION_INVALID: { hint: 'Use a PEP 440 or semver version, e.g. 1.2.0 or 1.2.0rc1.', docs: INPUT },
  APP_NAME_INVALID: {
    hint: 'Use letters, digits, "_" and "-" only, e.g. my_app or my-app (at most 100 characters).',
    docs: INPUT,
  },
  TARGET_NAME_INVALID: {
    hint: 'Use a target name of the form <app>-<version>.tar.gz (or .patch).',
    docs: INPUT,
  },
  PLATFORM_INVALID: { hint: 'Use <os>-<arch> in lowercase, e.g. linux-x64 or win32-arm64.', docs: INPUT },
  // config file
  CONFIG_NOT_FOUND: {
    hint: 'Run notsotuf init first, or point --config at the config of the repository.',
    docs: CONFIG,
  },
  CONFIG_INVALID: { hint: 'Fix the config file (see docs/config.md for its schema).', docs: CONFIG },
  CONFIG_EXISTS: {
    hint: 'Use the existing repository, or pass --config for a new config file.',
    docs: CONFIG,
  },
  // keys and passphrases
  KEY_NOT_FOUND: {
    hint: 'Check the key name, or pass the directory that holds it with --keys-dir.',
    docs: KEYS,
  },
  KEY_INVALID: { hint: 'Restore the key file from a backup, or create a new key.', docs: KEYS },
  KEY_EXISTS: { hint: 'Pick another key name, or use the existing key.', docs: KEYS },
  KEY_DECRYPT_FAILED: {
    hint: 'Check the passphrase (it is case-sensitive) and run the command again.',
    docs: KEYS,
  },
  PASSPHRASE_REQUIRED: {
    hint: 'Pass --passphrase-file, set NOTSOTUF_PASSPHRASE, or run the command on a terminal.',
    docs: KEYS,
  },
  KEY_NOT_IN_ROLE: { hint: 'See which keys sign which role with notsotuf status.', docs: KEYS },
  KEY_IN_USE: { hint: 'Remove the key from the roles it signs first.', docs: KEYS, reserved: true },
  // metadata and signatures
  METADATA_INVALID: {
    hint: 'Run notsotuf verify; restore the metadata from a backup or a pull.',
    docs: METADATA,
  },
  METADATA_NOT_FOUND: {
    hint: 'Check the repository location; restore missing metadata with notsotuf pull or from a backup.',
    docs: METADATA,
  },
  METADATA_EXPIRED: {
    hint: 'Run notsotuf refresh and publish; on a client, check the clock of the computer.',
    docs: METADATA,
  },
  THRESHOLD_NOT_MET: {
    hint: 'Pass the missing keys with --keys-dir, or stage the change with --stage for the other key holders.',
    docs: METADATA,
  },
  THRESHOLD_INVALID: {
    hint: 'Add keys first, or lower the threshold with notsotuf threshold set.',
    docs: METADATA,
  },
  STAGED_CHANGE_PENDING: {
    hint: 'Finish the staged change with notsotuf sign, or drop it with notsotuf sign --discard.',
    docs: METADATA,
  },
  NOTHING_STAGED: {
    hint: 'Changes are staged with --stage when the keys at hand cannot meet a threshold.',
    docs: METADATA,
  },
  // repository and releases
  REPO_NOT_INITIALIZED: {
    hint: 'Run notsotuf init first, or point --config at the right repository.',
    docs: REPO,
  },
  REPO_EXISTS: { hint: 'Pick another --repo-dir, or use the existing repository.', docs: REPO },
  REPO_LOCKED: {
    hint: 'Wait for the other notsotuf command to finish, then run this one again.',
    docs: REPO,
  },
  RELEASE_EXISTS: { hint: 'Pick a higher version, or remove that release first.', docs: REPO },
  RELEASE_NOT_FOUND: { hint: 'Pick a version the repository has (notsotuf status lists them).', docs: REPO },
  VERSION_NOT_NEWER: {
    hint: 'Publish a version above the latest one, or pass --maintenance for a release on an older line.',
    docs: REPO,
  },
  TUFUP_INCOMPATIBLE: {
    hint: "Pass --no-tufup-clients once no app with tufup's client updates from this repository.",
    docs: REPO,
  },
  BUNDLE_INVALID: {
    hint: 'Do not change the bundle while it is archived; run the command again.',
    docs: REPO,
  },
  BUNDLE_UNSAFE_LINK: { hint: 'Replace the link with the file it points to, or remove it.', docs: REPO },
  BUNDLE_SPECIAL_FILE: {
    hint: 'Archives may only hold directories, regular files and symlinks; remove it from the bundle.',
    docs: REPO,
  },
  VERIFY_FAILED: { hint: 'Run notsotuf verify and fix the repository it reports.', docs: REPO },
  TARGET_FILE_MISSING: {
    hint: 'Restore the file in targets/, or publish the repository again from a complete copy.',
    docs: REPO,
  },
  TARGET_FILE_MISMATCH: {
    hint: 'Restore the file in targets/ from the published copy, or add the release again.',
    docs: REPO,
  },
  // patches
  PATCH_INVALID: {
    hint: 'The patch is damaged or not made for this file; download the full archive instead.',
    docs: PATCHES,
  },
  PATCH_CODEC_UNKNOWN: {
    hint: 'Update notsotuf, or publish patches with a codec it knows (bsdiff4, notsotuf).',
    docs: PATCHES,
  },
  PATCH_RESULT_MISMATCH: {
    hint: 'The patch does not turn this file into the signed result; download the full archive instead.',
    docs: PATCHES,
  },
  // client: metadata and downloads
  METADATA_ROLLBACK: { hint: 'Keep the installed version and report it to the publisher.', docs: CLIENT },
  METADATA_SIGNATURE_INVALID: {
    hint: 'Keep the installed version and report it; check that the app bundles the root.json of this repository.',
    docs: CLIENT,
  },
  DOWNLOAD_FAILED: { hint: 'Check the network and the repository URLs, then try again later.', docs: CLIENT },
  DOWNLOAD_STALLED: { hint: 'Try again later; the download resumes where it stopped.', docs: CLIENT },
  DOWNLOAD_TOO_LARGE: { hint: 'Try again later, and report the mirror to the publisher.', docs: CLIENT },
  TARGET_VERIFY_FAILED: { hint: 'Keep the installed version and report it to the publisher.', docs: CLIENT },
  UPDATE_NOT_CHECKED: { hint: 'Call checkForUpdates() (or run client check) again first.', docs: CLIENT },
  APP_NOT_FOUND: {
    hint: 'Check the app name: details.apps lists the apps the repository has.',
    docs: CLIENT,
  },
  CACHE_LOCKED: {
    hint: 'Another process uses the update cache: wait for it to finish, then try again.',
    docs: CLIENT,
  },
  // archives being extracted
  ARCHIVE_INVALID: { hint: 'Keep the installed version and report it to the publisher.', docs: ARCHIVES },
  ARCHIVE_UNSAFE: { hint: 'Keep the installed version and report it to the publisher.', docs: ARCHIVES },
  // installing
  INSTALL_FAILED: {
    hint: 'Check that the install directory is writable, then try the update again.',
    docs: INSTALL,
  },
  INSTALL_ROOT_NOT_EMPTY: { hint: 'Choose a new or empty directory as the install root.', docs: INSTALL },
  ALREADY_INSTALLED: { hint: 'Update the installed app with notsotuf client update instead.', docs: INSTALL },
  INSTALL_LOCKED: {
    hint: 'Another process installs into, recovers or cleans up this install root: try again when it is done.',
    docs: INSTALL,
  },
  // storage and publishing
  DESTINATION_INVALID: {
    hint: 'Use dir:<path>, s3://<bucket>/<prefix> or rclone:<remote>:<path>.',
    docs: STORAGE,
  },
  STORAGE_FAILED: {
    hint: 'Check the storage service and its credentials, then run the command again.',
    docs: STORAGE,
  },
  STORAGE_LOCKED: {
    hint: 'Another publish is running: wait for it to finish, then run again.',
    docs: STORAGE,
  },
  PUBLISH_VERIFY_FAILED: {
    hint: 'Run the publish again (it re-uploads what differs); if it persists, check the storage service.',
    docs: STORAGE,
  },
  PUBLISH_CONFLICT: {
    hint: 'Another publisher went ahead: pull its state, add your change again, then publish.',
    docs: STORAGE,
  },
  PULL_CONFLICT: { hint: 'Move the local files that differ aside, then pull again.', docs: STORAGE },
  PULL_UNSAFE_PATH: {
    hint: 'Remove or rename those objects at the source; nothing was written.',
    docs: STORAGE,
  },
  // environment, and bugs
  IO_ERROR: {
    hint: 'Check that the files and directories concerned exist and are writable, and that the disk is not full.',
    docs: ENVIRONMENT,
  },
  INTERNAL_ERROR: {
    hint: 'This is a bug in notsotuf: please report it with the error and its cause (the CLI prints them with --debug).',
    docs: ENVIRONMENT,
  },
  ABORTED: { hint: 'The operation was cancelled; run it again to finish it.', docs: ENVIRONMENT },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every error code notsotuf can report (the keys of {@link ERROR_CODES}). */
export type ErrorCode = keyof typeof ERROR_CODES;

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
