/**
 * The versioned install layout: every release in its own directory, one atomic state file that selects the
 * current one, a trial for each new version with automatic rollback, and recovery after an interrupted install.
 */
export { type CleanupOptions, type CleanupResult, cleanupInstallRoot } from './cleanup.js';
export {
  afterConfirm,
  afterInstall,
  afterTrialFailure,
  isFailedVersion,
  MAX_FAILED_VERSIONS,
  versionsToKeep,
  versionsToRemove,
} from './decide.js';
export { detectInstallLayout, type InstallLayout } from './detect-layout.js';
export { claimFreshRoot, discardFreshRoot, type FreshRoot } from './fresh-root.js';
export { type ConfirmResult, confirmTrial, isHealthy, markHealthy } from './health.js';
export { DEFAULT_VERSIONED, type VersionedOptions, versionedStrategy } from './install.js';
export { launcherVersion, pointerVersion, readPointerVersion } from './launcher-pointer.js';
export {
  DATA_DIR,
  DEFAULT_TRIAL_POLICY,
  FAILURE_REASONS,
  type FailedVersion,
  HEALTH_DIR,
  HEALTH_SUFFIX,
  healthMarker,
  type InstallState,
  isEntryPath,
  isVersionDirName,
  type LastResult,
  STAGING_PREFIX,
  STATE_FILE,
  STATE_FORMAT,
  STATE_LOCK_FILE,
  statePath,
  type Trial,
  type TrialPolicy,
  UPDATE_LOCK_FILE,
  VERSIONS_DIR,
  versionDir,
} from './layout.js';
export { STATE_LOCK_WAIT_MS } from './locks.js';
export {
  type RecoverOptions,
  type RecoveryReport,
  recoverInstallRoot,
} from './recover.js';
export {
  parseInstallState,
  readInstallState,
  type StateWriteOptions,
  updateInstallState,
  writeInstallState,
} from './state-file.js';
