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
 * ```
 */

export { type ErrorCode, isNotsotufError, NotsotufError } from '../core/errors.js';
export type {
  Handover,
  InstallContext,
  InstallOutcome,
  InstallStep,
  InstallStrategy,
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
export { Client, type DownloadedUpdate, type InstallResult, type OperationOptions } from './client.js';
export type { ClientEventMap, ClientEventName, ClientListener, DownloadProgressEvent } from './events.js';
export type { ClientOptions, Mirror } from './options.js';
export { DEFAULT_CLIENT_OPTIONS } from './options.js';
export type { CachedArchiveState, FullReason, UpdateMethod, UpdatePlan } from './plan/plan-update.js';
export { patchChain, planUpdate } from './plan/plan-update.js';
export { CHANNELS, type Channel, inChannel, selectRelease } from './plan/select-release.js';
export type { UpdateFileInfo, UpdateInfo } from './update-info.js';
