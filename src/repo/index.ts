/**
 * The publisher side of notsotuf: keys, signed TUF metadata, releases.
 *
 * @example
 * ```ts
 * import { Repository, initRepository } from 'notsotuf/repo';
 * await initRepository({ appName: 'my_app', encryptKeys: false });
 * const repo = await Repository.open();
 * await repo.addRelease({ bundleDir: 'dist/my_app', version: '1.0.0' });
 * ```
 */
export { type ErrorCode, NotsotufError } from '../core/errors.js';
export type { ReleasePolicy, RolloutWave } from '../core/release-policy.js';
export type { Release, ReleaseFile } from '../core/releases.js';
export type { KeyEntry, Keystore } from '../tuf/keystore.js';
export type { RoleName } from '../tuf/metadata.js';
export {
  chainPassphraseProviders,
  envPassphraseProvider,
  filePassphraseProvider,
  type PassphraseProvider,
  type PassphraseRequest,
} from '../tuf/passphrase.js';
export type { PrivateKeyFormat, PrivateKeyMaterial } from '../tuf/private-key-file.js';
export type { Signer } from '../tuf/signer.js';
export type { LoadedConfig } from './config.js';
export {
  CONFIG_FILE_NAME,
  DEFAULT_CONFIG,
  type PassphraseMode,
  type RepoConfig,
  TUFUP_CONFIG_FILE_NAME,
} from './config.js';
export { type InitOptions, type InitResult, initRepository } from './init.js';
export type { RepoLayout } from './layout.js';
export type { PassphraseModeOptions, PassphraseModeResult } from './passphrase-mode.js';
export type { PublishResult, SigningReport } from './publish.js';
export type { RefreshPlan } from './refresh.js';
export { applyPolicyChange, type PolicyChange, type PolicyTarget } from './release-control.js';
export type { AddedRelease, AddReleaseOptions } from './release-ops.js';
export { type ChangeOptions, Repository, type RepositoryOptions } from './repository.js';
export { parseRolloutSchedule, rolloutWaves } from './rollout-schedule.js';
export type { RepoState } from './state.js';
export type { ReleaseStatus, RepoStatus, RoleStatus } from './status.js';
export type { VerifyProblem, VerifyReport } from './verify.js';
