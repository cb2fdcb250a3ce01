/**
 * The errors both install strategies report once an install has been undone: ABORTED when the caller cancelled,
 * INSTALL_LOCKED as it is (another process holds the install root: nothing was started), else INSTALL_FAILED with
 * a hint chosen from the file-system error (permissions, full disk, a release that changed under the installer).
 */
import { aborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';

export interface UndoneInstall {
  readonly version: string;
  /** The directory the install targeted (install dir or install root). */
  readonly target: string;
  /** What the failure message says was left alone, e.g. "it was left as it was". */
  readonly leftAlone: string;
  /** The file or directory concerned. */
  readonly path: string;
  readonly details: Record<string, unknown>;
  /** True when the failing path lies inside the extracted release (it changed while being installed). */
  readonly inRelease: boolean;
}

/** The error for an install that failed (or was cancelled) and was undone. */
export function undoneInstallError(err: unknown, install: UndoneInstall): NotsotufError {
  const { version, path, details } = install;
  if (err instanceof NotsotufError && err.code === 'ABORTED') {
    return aborted(`Installing version ${version} was cancelled; nothing was changed.`, {
      cause: err,
      path,
      details,
      hint: 'Install the update again when you are ready.',
    });
  }
  if (err instanceof NotsotufError && err.code === 'INSTALL_LOCKED') return err;
  return new NotsotufError(
    'INSTALL_FAILED',
    `Could not install version ${version} into ${install.target}; ${install.leftAlone}.`,
    { cause: err, path, details, hint: installHint(err, install) },
  );
}

function installHint(err: unknown, install: UndoneInstall): string {
  if (err instanceof NotsotufError && err.hint !== undefined) return err.hint;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return `${install.path} cannot be changed by this user. Run the update as the user who owns ${install.target} (or with administrator rights), then try again.`;
  }
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return 'The disk is full. Free some space, then try the update again.';
  if (code === 'ENOENT' && install.inRelease) {
    return 'The extracted release changed while it was being installed. Download the update again.';
  }
  return `Check that ${install.target} is writable and the disk is not full, then try the update again.`;
}
