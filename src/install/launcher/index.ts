/**
 * The entry point of a versioned install (`notsotuf-launch`): starts the selected version, watches a version on
 * trial and rolls a broken one back; plus the stable entry scripts an OS shortcut runs.
 */
export {
  countTrialLaunch,
  decideLaunch,
  decideTrialExit,
  type LaunchDecision,
  type LaunchInput,
  type TrialExit,
  type TrialOutcome,
} from './decide-launch.js';
export { type EntryCommand, entryCommand } from './entry-command.js';
export {
  ENTRY_POINT_MARKER,
  type EntryPointCommand,
  type FindEntryPointOptions,
  findEntryPointSync,
  parseEntryPoint,
} from './entry-point-read.js';
export {
  cmdQuote,
  type EntryPoint,
  type EntryPointOptions,
  launcherFlags,
  planEntryPoint,
  posixEntryScript,
  posixSelfLaunchScript,
  shellQuote,
  type TrialPolicyOptions,
  trialFlags,
  windowsEntryScript,
  windowsSelfLaunchScript,
  writeEntryPoint,
} from './entry-scripts.js';
export { exitLike } from './exit-like.js';
export {
  DEFAULT_LAUNCH,
  type LaunchLogLevel,
  type LaunchOptions,
  type LaunchResult,
  launchApp,
  type RolledBack,
} from './launch.js';
export { type RelaunchOptions, relaunch } from './relaunch.js';
export { type LauncherArgs, parseLauncherArgs, runLauncher } from './run-launcher.js';
export { LAUNCHER_FLAG, launcherMode } from './self-launch.js';
export { DEFAULT_FORWARDED_SIGNALS } from './signal-forwarder.js';
