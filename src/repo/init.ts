import { access, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { validateAppName } from '../core/target-name.js';
import { expiryInDays } from '../tuf/expiry.js';
import { type KeyEntry, Keystore } from '../tuf/keystore.js';
import {
  type AnyMetadata,
  meetsThreshold,
  parseMetadata,
  ROLE_NAMES,
  type RoleName,
  SPEC_VERSION,
  serializeMetadata,
  signMetadata,
} from '../tuf/metadata.js';
import { envPassphraseProvider, type PassphraseProvider } from '../tuf/passphrase.js';
import { Changeset } from './changeset.js';
import {
  CONFIG_FILE_NAME,
  configRelative,
  DEFAULT_CONFIG,
  type LoadedConfig,
  parseConfig,
  serializeConfig,
} from './config.js';
import { buildInitialTargets, buildSnapshot, buildTimestamp, rootKey } from './draft.js';
import { RepoLayout } from './layout.js';

export interface InitOptions {
  readonly appName: string;
  /** Directory the config goes in and relative paths start from; default: the current directory. */
  readonly cwd?: string;
  /** Config file path; default `notsotuf.json` in `cwd`. */
  readonly configPath?: string;
  readonly repoDir?: string;
  readonly keysDir?: string;
  /** Encrypt new private keys (default true). */
  readonly encryptKeys?: boolean;
  /**
   * Encrypt every key with one passphrase of the repository (config `"passphrase": "shared"`): the provider is
   * asked for it with `shared: true`, and a prompt asks once instead of once per key. Default false.
   */
  readonly onePassphrase?: boolean;
  /** Consistent snapshots (default true); false for repositories tufup clients read. */
  readonly consistentSnapshot?: boolean;
  readonly expirationDays?: Partial<Record<RoleName, number>>;
  readonly thresholds?: Partial<Record<RoleName, number>>;
  readonly passphrase?: PassphraseProvider;
  readonly now?: Date;
  /** scrypt cost for new encrypted keys; tests only. */
  readonly scryptN?: number;
}

export interface InitResult {
  readonly configPath: string;
  readonly repoDir: string;
  readonly keysDir: string;
  readonly createdKeys: readonly string[];
  readonly reusedKeys: readonly string[];
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Key names for a role: `targets` for one key, `targets1`…`targetsN` when its threshold needs N. */
export function defaultKeyNames(role: RoleName, count: number): string[] {
  return count === 1 ? [role] : Array.from({ length: count }, (_, i) => `${role}${i + 1}`);
}

/**
 * Creates a repository: config, one key per required signature (keys already in the key directory under the
 * default names are reused), and version 1 of the four roles. Fails without leaving anything behind.
 * Throws CONFIG_EXISTS, REPO_EXISTS, CONFIG_INVALID, PASSPHRASE_REQUIRED, IO_ERROR.
 */
export async function initRepository(options: InitOptions): Promise<InitResult> {
  validateAppName(options.appName);
  const cwd = options.cwd ?? process.cwd();
  const configPath = resolve(cwd, options.configPath ?? CONFIG_FILE_NAME);
  const { loaded, keyMap } = initialConfig(options, configPath);
  const { config } = loaded;
  const repoDir = configRelative(loaded, config.repo_dir);
  const keysDir = configRelative(loaded, config.keys_dir);
  const layout = new RepoLayout(repoDir, config.consistent_snapshot);
  await checkNothingThere(configPath, layout);
  const keystore = new Keystore({
    dirs: [keysDir],
    passphrase: options.passphrase ?? envPassphraseProvider(),
    sharedPassphrase: config.passphrase === 'shared',
  });
  const created: string[] = [];
  const reused: string[] = [];
  try {
    const keys = await gatherKeys(keystore, keyMap, options, config.encrypt_new_keys, { created, reused });
    const now = options.now ?? new Date();
    const root = buildRoot(keyMap, keys, config, now);
    const roles = await signInitialRoles(keystore, root, config, now);
    await writeRepository(layout, roles, configPath, loaded);
  } catch (err) {
    // Keys made by this run go with it; keys that were there before stay.
    for (const name of created) {
      await rm(join(keysDir, name), { force: true });
      await rm(join(keysDir, `${name}.pub`), { force: true });
    }
    throw err;
  }
  return { configPath, repoDir, keysDir, createdKeys: created, reusedKeys: reused };
}

/** The new config, checked as any loaded one; each role gets the key names its threshold needs. */
function initialConfig(
  options: InitOptions,
  configPath: string,
): { loaded: LoadedConfig; keyMap: Record<RoleName, string[]> } {
  const thresholds = { ...DEFAULT_CONFIG.thresholds, ...options.thresholds };
  const keyMap = Object.fromEntries(ROLE_NAMES.map((r) => [r, defaultKeyNames(r, thresholds[r])])) as Record<
    RoleName,
    string[]
  >;
  const loaded: LoadedConfig = parseConfig(
    {
      notsotuf_config: 1,
      app_name: options.appName,
      repo_dir: options.repoDir ?? DEFAULT_CONFIG.repo_dir,
      keys_dir: options.keysDir ?? DEFAULT_CONFIG.keys_dir,
      key_map: keyMap,
      thresholds,
      expiration_days: { ...DEFAULT_CONFIG.expiration_days, ...options.expirationDays },
      consistent_snapshot: options.consistentSnapshot ?? true,
      encrypt_new_keys: options.encryptKeys ?? true,
      passphrase: options.onePassphrase ? 'shared' : 'per-key',
    },
    configPath,
  );
  return { loaded, keyMap };
}

/** Throws CONFIG_EXISTS or REPO_EXISTS: init never takes over an existing config or repository. */
async function checkNothingThere(configPath: string, layout: RepoLayout): Promise<void> {
  if (await exists(configPath)) {
    throw new NotsotufError('CONFIG_EXISTS', `${configPath} already exists.`, {
      path: configPath,
      hint: 'This directory already has a notsotuf repository; use it, or pass --config for a new config file.',
    });
  }
  if (await exists(join(layout.metadataDir, 'root.json'))) {
    throw new NotsotufError('REPO_EXISTS', `${layout.metadataDir} already holds a repository.`, {
      path: layout.metadataDir,
      hint: 'Pick another --repo-dir, or write a config for the existing repository instead of running init.',
    });
  }
}

/**
 * The key of every name in `keyMap`: reused when the key directory has it, else created. `made` records which,
 * as it goes, so that a failure removes only the keys this run created.
 */
async function gatherKeys(
  keystore: Keystore,
  keyMap: Record<RoleName, string[]>,
  options: InitOptions,
  encrypted: boolean,
  made: { created: string[]; reused: string[] },
): Promise<Record<string, KeyEntry>> {
  const keys: Record<string, KeyEntry> = {};
  for (const name of new Set(Object.values(keyMap).flat())) {
    const existing = (await keystore.list()).find((k) => k.name === name);
    if (existing) made.reused.push(name);
    keys[name] =
      existing ??
      (await keystore.create(name, {
        encrypted,
        ...(options.scryptN ? { scryptN: options.scryptN } : {}),
      }));
    if (!existing) made.created.push(name);
  }
  return keys;
}

/** Version 1 of root, unsigned: every role's keys and threshold. */
function buildRoot(
  keyMap: Record<RoleName, string[]>,
  keys: Record<string, KeyEntry>,
  config: LoadedConfig['config'],
  now: Date,
) {
  const keyJson: Record<string, unknown> = {};
  const roles: Record<string, { keyids: string[]; threshold: number }> = {};
  for (const role of ROLE_NAMES) {
    roles[role] = { keyids: keyMap[role].map((n) => keys[n]!.keyid), threshold: config.thresholds[role] };
    for (const name of keyMap[role])
      keyJson[keys[name]!.keyid] = rootKey(keys[name]!.keyid, keys[name]!.publicHex).toJSON();
  }
  return parseMetadata(
    'root',
    {
      signed: {
        _type: 'root',
        spec_version: SPEC_VERSION,
        version: 1,
        expires: expiryInDays(config.expiration_days.root, now),
        consistent_snapshot: config.consistent_snapshot,
        keys: keyJson,
        roles,
      },
      signatures: [],
    },
    'new root',
  );
}

/** Signs root and builds and signs version 1 of the other roles. Throws THRESHOLD_NOT_MET. */
async function signInitialRoles(
  keystore: Keystore,
  root: ReturnType<typeof buildRoot>,
  config: LoadedConfig['config'],
  now: Date,
) {
  const signedRoot = root.signed;
  const signRole = async (role: RoleName, md: AnyMetadata) => {
    const signers = [];
    for (const keyid of signedRoot.roles[role]!.keyIDs) {
      const signer = await keystore.signerFor(keyid);
      if (signer) signers.push(signer);
    }
    await signMetadata(md, signers);
    if (!meetsThreshold(signedRoot, role, md)) {
      throw new NotsotufError('THRESHOLD_NOT_MET', `Could not sign the first ${role} metadata.`, {
        details: { role },
      });
    }
  };
  // Each role is signed before the next one describes it: snapshot lists targets' bytes, timestamp snapshot's.
  await signRole('root', root);
  const targets = buildInitialTargets(config.expiration_days.targets, now);
  await signRole('targets', targets);
  const snapshot = buildSnapshot(1, config.expiration_days.snapshot, now, targets);
  await signRole('snapshot', snapshot);
  const timestamp = buildTimestamp(1, config.expiration_days.timestamp, now, snapshot);
  await signRole('timestamp', timestamp);
  return { root, targets, snapshot, timestamp };
}

/** Writes the four roles and the config as one changeset: all of them, or none. */
async function writeRepository(
  layout: RepoLayout,
  mds: Awaited<ReturnType<typeof signInitialRoles>>,
  configPath: string,
  loaded: LoadedConfig,
): Promise<void> {
  const changes = new Changeset();
  for (const role of ROLE_NAMES) {
    const md = mds[role];
    for (const name of layout.metadataFileNames(role, 1))
      changes.write(layout.metadataPath(name), serializeMetadata(md));
  }
  changes.write(configPath, serializeConfig(loaded));
  await changes.commit();
}
