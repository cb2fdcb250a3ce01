import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { groupReleases, type Release } from '../core/releases.js';
import { type KeyEntry, Keystore } from '../tuf/keystore.js';
import type { RoleName } from '../tuf/metadata.js';
import { envPassphraseProvider, type PassphraseProvider } from '../tuf/passphrase.js';
import { acquireLock } from '../util/lock-file.js';
import { configRelative, type LoadedConfig, loadConfig, type PassphraseMode } from './config.js';
import type { Draft } from './draft.js';
import { draftAddKey, draftReplaceKey, draftRevokeKey, draftSetThreshold } from './key-ops.js';
import { sweepLeftovers } from './leftovers.js';
import {
  type PassphraseModeOptions,
  type PassphraseModeResult,
  switchPassphraseMode,
} from './passphrase-mode.js';
import {
  isComplete,
  type PublishContext,
  type PublishResult,
  publishDraft,
  type SigningReport,
  signDraft,
  thresholdError,
} from './publish.js';
import { planRefresh, type RefreshPlan } from './refresh.js';
import { draftPolicyChange, type PolicyChange, type PolicyTarget } from './release-control.js';
import {
  type AddedRelease,
  type AddReleaseOptions,
  draftAddRelease,
  draftPruneReleases,
  draftRemoveRelease,
  targetEntries,
} from './release-ops.js';
import {
  assertNothingStaged,
  discardStagedDraft,
  hasStagedDraft,
  loadStagedDraft,
  saveStagedDraft,
  stagingDir,
} from './staging.js';
import { loadRepoState, type RepoState } from './state.js';
import { buildStatus, type RepoStatus } from './status.js';
import { type VerifyReport, verifyRepository } from './verify.js';

export interface RepositoryOptions {
  /** Path of the config file; default: notsotuf.json (or tufup's .tufup-repo-config) in `cwd`. */
  readonly configPath?: string;
  readonly cwd?: string;
  /** Directories to search for keys, in order; default: the config's `keys_dir`. */
  readonly keysDirs?: readonly string[];
  /** Where passphrases of encrypted keys come from; default: NOTSOTUF_PASSPHRASE(_<KEY>) variables. */
  readonly passphrase?: PassphraseProvider;
  /** The clock, for expiry dates (tests pass a fixed one). */
  readonly now?: () => Date;
}

export interface ChangeOptions {
  /** Save a change that lacks signatures to the staging area instead of failing (multi-party signing). */
  readonly stage?: boolean;
}

interface InternalChangeOptions extends ChangeOptions {
  /** Only refresh of the online roles may run while a change is staged. */
  readonly whileStaged?: boolean;
}

/**
 * A publisher's update repository: config, keys and signed TUF metadata in a directory.
 *
 * Every change goes through one path: build a draft, sign it with the keys at hand, check every threshold,
 * then write all files in a client-safe order, or nothing at all.
 *
 * @example
 * ```ts
 * import { Repository } from 'notsotuf/repo';
 * const repo = await Repository.open({ configPath: 'notsotuf.json' });
 * await repo.addRelease({ bundleDir: 'dist/app', version: '1.2.0' });
 * ```
 */
export class Repository {
  private current: LoadedConfig;
  readonly repoDir: string;
  readonly keystore: Keystore;
  readonly now: () => Date;

  protected constructor(loaded: LoadedConfig, options: RepositoryOptions) {
    this.current = loaded;
    this.repoDir = configRelative(loaded, loaded.config.repo_dir);
    const dirs = options.keysDirs?.length
      ? options.keysDirs.map((d) => resolve(options.cwd ?? process.cwd(), d))
      : [configRelative(loaded, loaded.config.keys_dir)];
    this.keystore = new Keystore({
      dirs,
      passphrase: options.passphrase ?? envPassphraseProvider(),
      // Read at each request: the config is re-read under the lock, and may have switched.
      sharedPassphrase: () => this.current.config.passphrase === 'shared',
    });
    this.now = options.now ?? (() => new Date());
  }

  /** Opens the repository described by a config file. Throws CONFIG_NOT_FOUND, CONFIG_INVALID. */
  static async open(options: RepositoryOptions = {}): Promise<Repository> {
    const loaded = await loadConfig(options.configPath, options.cwd);
    return new Repository(loaded, options);
  }

  /** The config as last read (it is read again inside every change, so other processes' edits count). */
  get loaded(): LoadedConfig {
    return this.current;
  }

  get appName(): string {
    return this.loaded.config.app_name;
  }

  /** The current metadata on disk. Throws REPO_NOT_INITIALIZED, METADATA_INVALID, METADATA_NOT_FOUND. */
  loadState(): Promise<RepoState> {
    return loadRepoState(this.repoDir);
  }

  /** Releases per app name (the app itself and its `<app>-<os>-<arch>` platforms), ascending by version. */
  async releases(): Promise<Map<string, Release[]>> {
    const state = await this.loadState();
    return groupReleases(targetEntries(state.targets));
  }

  /** Whether a change waits in the staging area for more signatures. */
  hasStagedChange(): Promise<boolean> {
    return hasStagedDraft(this.loaded);
  }

  private context(state: RepoState): PublishContext {
    return { state, config: this.loaded, keystore: this.keystore, now: this.now() };
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.repoDir, { recursive: true });
    const release = await acquireLock(join(this.repoDir, '.notsotuf.lock'), `The repository ${this.repoDir}`);
    try {
      // Re-read under the lock: an earlier change (by this object or another process) may have rewritten it.
      this.current = await loadConfig(this.current.path);
      await sweepLeftovers(this.repoDir);
      return await fn();
    } finally {
      await release();
    }
  }

  /**
   * Runs one change: builds the draft, signs it, and publishes it — or stages it when asked and signatures
   * are missing. Temp files of a draft that is neither published nor staged are removed.
   * Returns undefined when `build` finds nothing to change.
   */
  protected async change(
    build: (ctx: PublishContext) => Promise<Draft | undefined>,
    options: InternalChangeOptions = {},
  ): Promise<PublishResult | undefined> {
    return this.locked(async () => {
      if (!options.whileStaged) await assertNothingStaged(this.loaded);
      const ctx = this.context(await this.loadState());
      const draft = await build(ctx);
      if (!draft) return undefined;
      let keepFiles = false;
      try {
        const reports = await signDraft(ctx, draft);
        if (!isComplete(reports)) {
          if (!options.stage) throw thresholdError(reports, true);
          keepFiles = true;
          return await this.stage(ctx, draft, reports);
        }
        const result = await publishDraft(ctx, draft, reports);
        keepFiles = true;
        return result;
      } finally {
        if (!keepFiles) for (const f of draft.newTargetFiles) await rm(f.tempPath, { force: true });
      }
    });
  }

  /** Saves a partly signed draft to the staging area and reports what it still needs. */
  private async stage(ctx: PublishContext, draft: Draft, reports: SigningReport[]): Promise<PublishResult> {
    await saveStagedDraft(this.loaded, ctx.state, draft);
    return {
      staged: true,
      description: draft.description,
      versions: {},
      signing: reports,
      written: [stagingDir(this.loaded)],
      removeFailures: [],
      warnings: draft.warnings ?? [],
    };
  }

  /**
   * Adds this party's signatures to the staged change; publishes it once every threshold is met.
   * Throws NOTHING_STAGED, THRESHOLD_NOT_MET (for the online roles), KEY_DECRYPT_FAILED.
   */
  async signStaged(): Promise<PublishResult> {
    return this.locked(async () => {
      const ctx = this.context(await this.loadState());
      const draft = await loadStagedDraft(this.loaded, ctx.state);
      const reports = await signDraft(ctx, draft);
      if (!isComplete(reports)) return this.stage(ctx, draft, reports);
      const result = await publishDraft(ctx, draft, reports);
      await discardStagedDraft(this.loaded);
      return result;
    });
  }

  /** Drops the staged change. Throws NOTHING_STAGED when there is none. */
  async discardStaged(): Promise<void> {
    if (!(await this.hasStagedChange())) {
      throw new NotsotufError('NOTHING_STAGED', 'No change is staged.', { path: stagingDir(this.loaded) });
    }
    await discardStagedDraft(this.loaded);
  }

  /**
   * Archives a bundle as a new release and publishes it.
   * Throws VERSION_INVALID, RELEASE_EXISTS, VERSION_NOT_NEWER, BUNDLE_INVALID, BUNDLE_UNSAFE_LINK,
   * BUNDLE_SPECIAL_FILE, THRESHOLD_NOT_MET, KEY_DECRYPT_FAILED, PASSPHRASE_REQUIRED, STAGED_CHANGE_PENDING.
   */
  async addRelease(
    options: AddReleaseOptions & ChangeOptions,
  ): Promise<{ release: AddedRelease; result: PublishResult }> {
    let added: AddedRelease | undefined;
    const result = await this.change(async (ctx) => {
      const out = await draftAddRelease(ctx, options);
      added = out.added;
      return out.draft;
    }, options);
    return { release: added!, result: result! };
  }

  /**
   * Changes the release policy of one release or a range (`through`): rollout waves, halt/resume, recall to a good
   * release, minimum version. Signs a new targets version like any release change (the targets key is needed).
   * Throws RELEASE_NOT_FOUND, INVALID_ARGUMENT, VERSION_INVALID.
   *
   * @example
   * await repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'rollout', waves: rolloutWaves(10, [], new Date()) });
   * await repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'halt' });
   * await repo.changeReleasePolicy({ version: '2.0.0', through: '2.0.2' }, { kind: 'recall', to: '1.9.4' });
   */
  async changeReleasePolicy(
    target: PolicyTarget,
    change: PolicyChange,
    options: ChangeOptions = {},
  ): Promise<PublishResult> {
    return (await this.change(async (ctx) => draftPolicyChange(ctx, target, change), options))!;
  }

  /** Removes one release (archive and patch). Throws RELEASE_NOT_FOUND, VERSION_INVALID. */
  async removeRelease(
    version: string,
    options: { platform?: string } & ChangeOptions = {},
  ): Promise<PublishResult> {
    return (await this.change(async (ctx) => draftRemoveRelease(ctx, version, options.platform), options))!;
  }

  /** Keeps the newest `keep` releases. Returns undefined when there was nothing to prune. */
  pruneReleases(
    keep: number,
    options: { platform?: string } & ChangeOptions = {},
  ): Promise<PublishResult | undefined> {
    return this.change(async (ctx) => draftPruneReleases(ctx, keep, options.platform), options);
  }

  /**
   * Switches how the keys get their passphrases: `shared` re-encrypts every encrypted private key in the key
   * directories with one new passphrase (from `newPassphrase`) and records `"passphrase": "shared"`; `per-key` only
   * records the choice. All keys and the config are rewritten, or none.
   * Throws INVALID_ARGUMENT (tufup config), PASSPHRASE_REQUIRED, KEY_DECRYPT_FAILED, KEY_INVALID, IO_ERROR,
   * REPO_LOCKED.
   */
  setPassphraseMode(
    mode: PassphraseMode,
    options: PassphraseModeOptions = {},
  ): Promise<PassphraseModeResult> {
    return this.locked(() => switchPassphraseMode(this.loaded, this.keystore, mode, options));
  }

  /** Creates a key pair in the first key directory (encrypted unless the config or `encrypted` says not). */
  createKey(name: string, options: { encrypted?: boolean; scryptN?: number } = {}): Promise<KeyEntry> {
    return this.keystore.create(name, {
      encrypted: options.encrypted ?? this.loaded.config.encrypt_new_keys,
      ...(options.scryptN ? { scryptN: options.scryptN } : {}),
    });
  }

  /**
   * Adds a key to a role (a new root version); with `create`, a key that does not exist yet is made first.
   * Throws KEY_NOT_FOUND, THRESHOLD_NOT_MET.
   */
  async addKey(
    role: RoleName,
    name: string,
    options: ChangeOptions & { create?: boolean; encrypted?: boolean; scryptN?: number } = {},
  ): Promise<PublishResult> {
    const run = async (key: KeyEntry) =>
      (await this.change(async (ctx) => draftAddKey(ctx, role, key), options))!;
    if (options.create) return this.withKey(name, options, run);
    return run(await this.keystore.get(name));
  }

  /**
   * Runs `fn` with the key `name`, creating it first when missing; a key created here is deleted again when `fn`
   * fails, so a retry starts clean (e.g. after a wrong passphrase for another key).
   */
  private async withKey<T>(
    name: string,
    options: { encrypted?: boolean; scryptN?: number },
    fn: (key: KeyEntry) => Promise<T>,
  ): Promise<T> {
    const existing = (await this.keystore.list()).find((k) => k.name === name);
    if (existing) return fn(existing);
    const created = await this.createKey(name, options);
    try {
      return await fn(created);
    } catch (err) {
      await this.keystore.delete(name);
      throw err;
    }
  }

  /**
   * Replaces a key in every role it signs by another one, creating the new key when it does not exist yet.
   * The new root is signed by the old root's keys too, so clients can follow the rotation.
   */
  async replaceKey(
    oldName: string,
    newName: string,
    options: ChangeOptions & { scryptN?: number } = {},
  ): Promise<PublishResult> {
    const oldKey = await this.keystore.get(oldName);
    return this.withKey(
      newName,
      options,
      async (newKey) => (await this.change(async (ctx) => draftReplaceKey(ctx, oldKey, newKey), options))!,
    );
  }

  /** Removes a key from a role. Throws KEY_NOT_IN_ROLE, THRESHOLD_INVALID. */
  async revokeKey(role: RoleName, name: string, options: ChangeOptions = {}): Promise<PublishResult> {
    const key = await this.keystore.get(name);
    return (await this.change(async (ctx) => draftRevokeKey(ctx, role, key), options))!;
  }

  /** Sets a role's signature threshold. Throws THRESHOLD_INVALID. */
  async setThreshold(role: RoleName, threshold: number, options: ChangeOptions = {}): Promise<PublishResult> {
    return (await this.change(async (ctx) => draftSetThreshold(ctx, role, threshold), options))!;
  }

  /**
   * Re-signs the roles that expire within `withinDays` (default: those with less than half of their lifetime
   * left), as far as the keys here allow — for cron jobs. Only snapshot and timestamp are refreshed while a change
   * is staged.
   */
  async refresh(withinDays?: number): Promise<RefreshPlan & { result: PublishResult | undefined }> {
    let plan: RefreshPlan = { draft: undefined, refreshed: [], skipped: [] };
    const staged = await this.hasStagedChange();
    const result = await this.change(
      async (ctx) => {
        plan = await planRefresh(ctx, withinDays, { onlineOnly: staged });
        return plan.draft;
      },
      { whileStaged: true },
    );
    return { ...plan, result };
  }

  /** Roles, versions, signatures, expiry and releases. */
  async status(): Promise<RepoStatus> {
    const state = await this.loadState();
    return buildStatus({
      state,
      config: this.loaded.config,
      repoDir: this.repoDir,
      keys: await this.keystore.list(),
      releases: await this.releases(),
      stagedChange: await this.hasStagedChange(),
      now: this.now(),
    });
  }

  /** Loads the repository as a client would (tuf-js) and checks every target's length and hash. */
  verify(): Promise<VerifyReport> {
    return verifyRepository(this.repoDir);
  }
}
