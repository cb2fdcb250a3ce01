import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { describeValue } from '../core/describe-value.js';
import { NotsotufError } from '../core/errors.js';
import { validateAppName } from '../core/target-name.js';
import { ROLE_NAMES, type RoleName } from '../tuf/role-names.js';

/** File name of a notsotuf config, looked up in the current directory when `--config` is not given. */
export const CONFIG_FILE_NAME = 'notsotuf.json';
/** tufup's config file name: notsotuf reads and updates tufup repositories in place. */
export const TUFUP_CONFIG_FILE_NAME = '.tufup-repo-config';
/** Version of the notsotuf config format, stored as `notsotuf_config`. */
export const CONFIG_FORMAT_VERSION = 1;

/**
 * How the keys of a repository get their passphrases: `per-key` (each key its own, the default) or `shared` (one
 * passphrase for all keys, asked once per command).
 */
export type PassphraseMode = 'per-key' | 'shared';

/**
 * The repository config. Field names follow tufup's config so a tufup config reads as a notsotuf one;
 * `notsotuf_config`, `consistent_snapshot` and `encrypt_new_keys` are ours.
 */
export interface RepoConfig {
  readonly app_name: string;
  /** Repository directory (metadata/ and targets/), relative to the config file. */
  readonly repo_dir: string;
  /** Where new keys are created and keys are looked up by default, relative to the config file. */
  readonly keys_dir: string;
  /** Role → names of the key files that sign it. */
  readonly key_map: Readonly<Record<RoleName, readonly string[]>>;
  readonly thresholds: Readonly<Record<RoleName, number>>;
  readonly expiration_days: Readonly<Record<RoleName, number>>;
  /** Layout of new repositories (an existing repository's root.json decides for itself). */
  readonly consistent_snapshot: boolean;
  /** Whether `keys create` encrypts new private keys (the default) or writes them in plain tufup format. */
  readonly encrypt_new_keys: boolean;
  /** `shared`: every key is encrypted with one passphrase of the repository; `per-key` (default): each its own. */
  readonly passphrase: PassphraseMode;
}

/** tufup's defaults: root 365 days, targets and snapshot 7, timestamp 1; every threshold 1. */
export const DEFAULT_CONFIG = {
  repo_dir: 'repository',
  keys_dir: 'keystore',
  thresholds: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
  expiration_days: { root: 365, targets: 7, snapshot: 7, timestamp: 1 },
  consistent_snapshot: true,
  encrypt_new_keys: true,
  passphrase: 'per-key',
} as const;

/** A loaded config: the values, where it lives, and which flavour to write back. */
export interface LoadedConfig {
  readonly config: RepoConfig;
  readonly path: string;
  /** `tufup` configs are written back in tufup's shape, so tufup keeps reading them. */
  readonly flavor: 'notsotuf' | 'tufup';
  /** Fields we do not know, kept when writing back. */
  readonly extra: Readonly<Record<string, unknown>>;
}

const KNOWN_FIELDS = new Set([
  'notsotuf_config',
  'app_name',
  'repo_dir',
  'keys_dir',
  'key_map',
  'thresholds',
  'expiration_days',
  'consistent_snapshot',
  'encrypt_new_keys',
  'passphrase',
]);

function invalid(path: string, problem: string): NotsotufError {
  return new NotsotufError('CONFIG_INVALID', `Config ${path}: ${problem}.`, {
    path,
    hint: 'Fix the config file (see docs/config.md for its schema) or create a new one with notsotuf init.',
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function relativeDir(path: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw invalid(path, `"${field}" must be a non-empty path`);
  }
  return value;
}

function roleNumbers(
  path: string,
  field: string,
  value: unknown,
  fallback: Record<RoleName, number>,
  min: number,
  max: number,
): Record<RoleName, number> {
  if (value === undefined) return { ...fallback };
  if (!isPlainObject(value)) throw invalid(path, `"${field}" must be an object with role names as keys`);
  const out = { ...fallback };
  for (const [role, n] of Object.entries(value)) {
    if (!(ROLE_NAMES as readonly string[]).includes(role))
      throw invalid(path, `"${field}" has unknown role "${role}"`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw invalid(path, `"${field}.${role}" must be a whole number from ${min} to ${max}`);
    }
    out[role as RoleName] = n;
  }
  return out;
}

function keyMap(path: string, value: unknown): Record<RoleName, string[]> {
  if (!isPlainObject(value)) throw invalid(path, '"key_map" must map each role to a list of key names');
  const out = {} as Record<RoleName, string[]>;
  for (const role of ROLE_NAMES) {
    const names = value[role];
    if (!Array.isArray(names) || names.length === 0)
      throw invalid(path, `"key_map.${role}" must list at least one key`);
    for (const name of names) {
      if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
        throw invalid(
          path,
          `"key_map.${role}" has an invalid key name ${describeValue(name)} (letters, digits, _ and -)`,
        );
      }
    }
    out[role] = [...new Set(names as string[])];
  }
  for (const role of Object.keys(value)) {
    if (!(ROLE_NAMES as readonly string[]).includes(role))
      throw invalid(path, `"key_map" has unknown role "${role}"`);
  }
  return out;
}

/** Validates parsed config JSON. Exported for tests and for `init`, which builds a config from flags. */
export function parseConfig(json: unknown, path: string): LoadedConfig {
  if (!isPlainObject(json)) throw invalid(path, 'the file must hold a JSON object');
  const flavor = json['notsotuf_config'] === undefined ? 'tufup' : 'notsotuf';
  if (flavor === 'notsotuf' && json['notsotuf_config'] !== CONFIG_FORMAT_VERSION) {
    throw invalid(path, `unsupported "notsotuf_config" version ${describeValue(json['notsotuf_config'])}`);
  }
  let appName: string;
  try {
    appName = validateAppName(String(json['app_name'] ?? ''));
  } catch (err) {
    throw new NotsotufError('CONFIG_INVALID', `Config ${path}: "app_name" is missing or invalid.`, {
      path,
      cause: err,
      hint: 'app_name may contain letters, digits, _ and - only.',
    });
  }
  const thresholds = roleNumbers(
    path,
    'thresholds',
    json['thresholds'],
    { ...DEFAULT_CONFIG.thresholds },
    1,
    100,
  );
  const expiration = roleNumbers(
    path,
    'expiration_days',
    json['expiration_days'],
    { ...DEFAULT_CONFIG.expiration_days },
    1,
    36500,
  );
  const keys = keyMap(path, json['key_map']);
  for (const role of ROLE_NAMES) {
    if (keys[role].length < thresholds[role]) {
      throw invalid(
        path,
        `role ${role} has threshold ${thresholds[role]} but only ${keys[role].length} key(s)`,
      );
    }
  }
  // tufup keeps a list of encrypted key names; any entry there means the user wants encrypted keys.
  const encryptNew =
    flavor === 'tufup'
      ? Array.isArray(json['encrypted_keys']) && json['encrypted_keys'].length > 0
      : json['encrypt_new_keys'] !== false;
  // tufup has no such field (and rejects unknown ones), so a tufup config is always per-key.
  const passphrase = json['passphrase'] ?? DEFAULT_CONFIG.passphrase;
  if (flavor === 'notsotuf' && passphrase !== 'per-key' && passphrase !== 'shared') {
    throw invalid(path, `"passphrase" must be "per-key" or "shared", not ${describeValue(passphrase)}`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN_FIELDS.has(k)) extra[k] = v;
  return {
    path,
    flavor,
    extra,
    config: {
      app_name: appName,
      repo_dir: relativeDir(path, 'repo_dir', json['repo_dir'] ?? DEFAULT_CONFIG.repo_dir),
      keys_dir: relativeDir(path, 'keys_dir', json['keys_dir'] ?? DEFAULT_CONFIG.keys_dir),
      key_map: keys,
      thresholds,
      expiration_days: expiration,
      consistent_snapshot: flavor === 'tufup' ? false : json['consistent_snapshot'] !== false,
      encrypt_new_keys: encryptNew,
      passphrase: flavor === 'notsotuf' && passphrase === 'shared' ? 'shared' : 'per-key',
    },
  };
}

/** Serialises a config in its flavour: tufup configs keep tufup's fields only (tufup rejects unknown ones). */
export function serializeConfig(loaded: LoadedConfig): string {
  const c = loaded.config;
  const common = {
    app_name: c.app_name,
    repo_dir: c.repo_dir,
    keys_dir: c.keys_dir,
    key_map: c.key_map,
    thresholds: c.thresholds,
    expiration_days: c.expiration_days,
  };
  const body =
    loaded.flavor === 'tufup'
      ? { ...loaded.extra, ...common }
      : {
          notsotuf_config: CONFIG_FORMAT_VERSION,
          ...common,
          consistent_snapshot: c.consistent_snapshot,
          encrypt_new_keys: c.encrypt_new_keys,
          passphrase: c.passphrase,
          ...loaded.extra,
        };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** Resolves a config-relative directory to an absolute path. */
export function configRelative(loaded: LoadedConfig, dir: string): string {
  return isAbsolute(dir) ? dir : resolve(dirname(loaded.path), dir);
}

/** Reads the config at `path`, or looks for notsotuf.json then .tufup-repo-config in `cwd`. */
export async function loadConfig(
  path: string | undefined,
  cwd: string = process.cwd(),
): Promise<LoadedConfig> {
  const candidates = path
    ? [resolve(cwd, path)]
    : [join(cwd, CONFIG_FILE_NAME), join(cwd, TUFUP_CONFIG_FILE_NAME)];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new NotsotufError('IO_ERROR', `Could not read the config ${candidate}.`, {
        path: candidate,
        cause: err,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new NotsotufError('CONFIG_INVALID', `Config ${candidate} is not valid JSON.`, {
        path: candidate,
        cause: err,
        hint: 'Fix the JSON syntax of the config file.',
      });
    }
    return parseConfig(json, candidate);
  }
  throw new NotsotufError(
    'CONFIG_NOT_FOUND',
    `No notsotuf config found${path ? ` at ${path}` : ` in ${cwd}`}.`,
    {
      path: candidates[0],
      hint: `Run notsotuf init to create ${CONFIG_FILE_NAME}, pass --config, or run from the directory that holds it.`,
    },
  );
}
