/**
 * Installing a verified, extracted release into the app's directory. `InstallStrategy` is the extension point
 * (tufup's `install=` hook); `inPlaceStrategy` is the default, with a hand-over script on Windows.
 */
export {
  ALWAYS_EXCLUDED,
  createExcludeMatcher,
  type ExcludeMatcherOptions,
  excludePatternSource,
} from './exclude-pattern.js';
export { BACKUP_PREFIX, DEFAULT_IN_PLACE, type InPlaceOptions, inPlaceStrategy } from './in-place.js';
export {
  type Entry,
  type InPlacePlan,
  type InPlacePlanOptions,
  type PlannedWrite,
  planInPlace,
  type Removal,
} from './in-place-plan.js';
export type { Handover, InstallContext, InstallOutcome, InstallStep, InstallStrategy } from './strategy.js';
export { type ScanTreeOptions, scanTree } from './tree-scan.js';
export {
  buildWindowsHandoverScript,
  DEFAULT_WINDOWS_HANDOVER,
  HANDOVER_EXIT,
  type HandoverScriptOptions,
  handoverCommand,
  type RestartCommand,
  type SpawnFunction,
  type WindowsHandoverOptions,
  type WriteWindowsHandoverOptions,
  writeWindowsHandover,
} from './windows-handover.js';
export { powerShellLiteral, windowsCommandLine, windowsCommandLineArg } from './windows-quote.js';
