/** Background updates over a Client (electron-updater's autoUpdater, on TUF). */
export { AutoUpdater, type AutoUpdaterOptions, DEFAULT_AUTO_UPDATER } from './auto-updater.js';
export type {
  AutoCheckResult,
  AutoUpdateErrorEvent,
  AutoUpdaterEventMap,
  QuitAndInstallOptions,
  QuitAndInstallResult,
  ReadyWhen,
  UpdateDownloadedEvent,
} from './events.js';
export {
  type AutoUpdateState,
  type CheckDelay,
  classifyFailure,
  DEFAULT_SCHEDULE,
  type FailureClass,
  isCheckDue,
  nextCheckDelay,
  recordCheckResult,
  recordCheckStart,
  retryBackoff,
  type ScheduleOptions,
  startDelay,
} from './schedule.js';
export { AUTO_UPDATE_STATE_FILE } from './state-file.js';
