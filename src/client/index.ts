/**
 * `notsotuf/client`: the half an app embeds. Check for updates, download the cheapest verified path (patch chain
 * or full archive) through tuf-js, rebuild and verify, extract safely, install.
 *
 * @example
 * ```ts
 * import { Client } from 'notsotuf/client';
 * const client = new Client({
 *   appName: 'my_app', currentVersion: '1.0.0',
 *   installDir: '/opt/my_app', cacheDir: '/var/cache/my_app',
 *   metadataUrl: 'https://updates.example.com/metadata/', targetsUrl: 'https://updates.example.com/targets/',
 *   trustedRoot: { path: '/opt/my_app/root.json' },
 * });
 * client.on('download-progress', (p) => console.log(`${p.bytes}/${p.total}`));
 * const result = await client.update();
 *
 * // Or in the background: checks every 4 h (± 10 %), retries sooner while offline, installs for the next launch.
 * const updater = new AutoUpdater({ client });
 * updater.on('update-downloaded', ({ info }) => console.log(`${info.version} runs at the next start`));
 * updater.start();
 * ```
 */

export { type ErrorCode, isNotsotufError, NotsotufError } from '../core/errors.js';
export type { ReleasePolicy, RolloutWave } from '../core/release-policy.js';
export type { Release, ReleaseFile } from '../core/releases.js';
export type {
  EntryPoint,
  EntryPointOptions,
  Handover,
  HelperCommand,
  InPlaceOptions,
  InstallContext,
  InstallOutcome,
  InstallStep,
  InstallStrategy,
  RestartCommand,
  Trial,
  WindowsHandoverOptions,
} from '../install/index.js';
export {
  type CleanupResult,
  DEFAULT_TRIAL_POLICY,
  exitLike,
  type FailedVersion,
  type InstallState,
  inPlaceStrategy,
  type LastResult,
  launcherMode,
  type TrialPolicy,
  type TrialPolicyOptions,
  type VersionedOptions,
  versionedStrategy,
  writeEntryPoint,
} from '../install/index.js';
export {
  type AutoCheckResult,
  type AutoUpdateErrorEvent,
  AutoUpdater,
  type AutoUpdaterEventMap,
  type AutoUpdaterOptions,
  type AutoUpdateState,
  type CheckDelay,
  classifyFailure,
  DEFAULT_AUTO_UPDATER,
  DEFAULT_SCHEDULE,
  type FailureClass,
  nextCheckDelay,
  type QuitAndInstallOptions,
  type QuitAndInstallResult,
  type ReadyWhen,
  type ScheduleOptions,
  type UpdateDownloadedEvent,
} from './auto/index.js';
export { Client, type DownloadedUpdate, type InstallResult, type OperationOptions } from './client.js';
export type {
  ClientEventMap,
  ClientEventName,
  ClientListener,
  ClientPhase,
  DownloadProgressEvent,
  EventListener,
} from './events.js';
export {
  FirstInstaller,
  type FirstInstallOptions,
  type FirstInstallResult,
  TRUSTED_ROOT_FILE,
} from './first-install.js';
export type { RestartOptions } from './installed-app.js';
export type { ClientOptions, Mirror } from './options.js';
export { DEFAULT_CLIENT_OPTIONS } from './options.js';
export type { OfferContext, OfferDecision, WithheldReason, WithheldRelease } from './plan/offer.js';
export type {
  CachedArchiveState,
  FullReason,
  PlanInput,
  UpdateMethod,
  UpdatePlan,
  UpdateReason,
} from './plan/plan-update.js';
export { DEFAULT_MAX_PATCH_RATIO, failedPatchKey, patchChain, planUpdate } from './plan/plan-update.js';
export {
  DEFAULT_ROUTE_COSTS,
  estimateRoutes,
  type RouteCostInput,
  type RouteCostTable,
  type RouteEstimate,
} from './plan/route-cost.js';
export {
  CHANNELS,
  type Channel,
  inChannel,
  type Selection,
  type SelectReleaseInput,
  selectOffered,
  selectRelease,
} from './plan/select-release.js';
export type { UpdateFileInfo, UpdateInfo } from './update-info.js';
