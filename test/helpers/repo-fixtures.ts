/**
 * Shared helpers for the repository (publisher) tests: temp dirs, repositories made with the real
 * `initRepository`, small bundle directories, directory-tree snapshots for before/after comparisons, and a
 * private copy of the tufup fixture.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNotsotufError, type NotsotufError } from '../../src/core/errors.js';
import { type InitOptions, type InitResult, initRepository } from '../../src/repo/init.js';
import { Repository, type RepositoryOptions } from '../../src/repo/repository.js';

export const TUFUP_FIXTURE = fileURLToPath(new URL('../fixtures/tufup-repo-v0.10/', import.meta.url));

/** The passphrase of every encrypted test key, and the cheapest scrypt cost the key format allows. */
export const PASSPHRASE = 'pw';
export const TEST_SCRYPT_N = 16384;
export const passphraseProvider = async (): Promise<string> => PASSPHRASE;

/** A fresh temp dir; `cleanup` removes it (call it from `after`/`t.after`). */
export async function makeTempDir(prefix = 'notsotuf-repo-test-'): Promise<{
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestRepo {
  /** Directory holding notsotuf.json (and, by default, keystore/ and repository/). */
  readonly cwd: string;
  readonly init: InitResult;
  readonly repoDir: string;
  readonly keysDir: string;
  readonly metadataDir: string;
  readonly targetsDir: string;
  /** Opens the repository again (fresh keystore scan), with the test passphrase unless overridden. */
  open(options?: Partial<RepositoryOptions>): Promise<Repository>;
}

export interface TestRepoOptions extends Omit<InitOptions, 'appName' | 'cwd'> {
  readonly appName?: string;
  /** Encrypted keys (scrypt N 16384, passphrase "pw"); default false, since encryption only slows tests. */
  readonly encrypted?: boolean;
}

/** Creates a repository in `cwd` (a directory the caller cleans up) with the real `initRepository`. */
export async function createTestRepo(cwd: string, options: TestRepoOptions = {}): Promise<TestRepo> {
  const { appName = 'app', encrypted = false, ...rest } = options;
  await mkdir(cwd, { recursive: true });
  const init = await initRepository({
    appName,
    cwd,
    encryptKeys: encrypted,
    ...(encrypted ? { scryptN: TEST_SCRYPT_N, passphrase: passphraseProvider } : {}),
    ...rest,
  });
  return {
    cwd,
    init,
    repoDir: init.repoDir,
    keysDir: init.keysDir,
    metadataDir: join(init.repoDir, 'metadata'),
    targetsDir: join(init.repoDir, 'targets'),
    open: (opts = {}) => Repository.open({ cwd, passphrase: passphraseProvider, ...opts }),
  };
}

/** Writes a small bundle directory (files by relative path, plus an executable launcher) and returns its path. */
export async function writeBundle(
  dir: string,
  files: Record<string, string | Buffer> = { 'README.txt': 'hello\n', 'lib/data.bin': 'data\n' },
): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  return dir;
}

/** One entry of a tree snapshot: `dir`, `file:<sha256>`, `link:<target>` or `other`. */
export type TreeSnapshot = Record<string, string>;

/** Every entry below `root` (relative path → content fingerprint); symlinks are not followed. */
export async function snapshotTree(root: string): Promise<TreeSnapshot> {
  const out: TreeSnapshot = {};
  async function walk(rel: string): Promise<void> {
    const abs = rel ? join(root, rel) : root;
    for (const name of (await readdir(abs)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const child = join(abs, name);
      const info = await lstat(child);
      if (info.isSymbolicLink()) out[childRel] = `link:${await readlink(child)}`;
      else if (info.isDirectory()) {
        out[childRel] = 'dir';
        await walk(childRel);
      } else if (info.isFile()) {
        out[childRel] = `file:${createHash('sha256')
          .update(await readFile(child))
          .digest('hex')}`;
      } else out[childRel] = 'other';
    }
  }
  await walk('');
  return out;
}

/** sha256 hex of a file's bytes. */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Copies a directory like `cp -a`: recursive, symlinks kept as they are. */
export async function copyTree(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

/** A private copy of the tufup v0.10 fixture in `dest` (never touch the original). */
export async function copyTufupFixture(dest: string): Promise<{
  dir: string;
  configPath: string;
  repoDir: string;
  metadataDir: string;
  targetsDir: string;
  keysDir: string;
}> {
  await copyTree(TUFUP_FIXTURE, dest);
  return {
    dir: dest,
    configPath: join(dest, '.tufup-repo-config'),
    repoDir: join(dest, 'repository'),
    metadataDir: join(dest, 'repository', 'metadata'),
    targetsDir: join(dest, 'repository', 'targets'),
    keysDir: join(dest, 'keystore'),
  };
}

/** Reads a JSON file. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The `signed` part of a metadata file. */
export async function readSigned(path: string): Promise<Record<string, unknown> & { version: number }> {
  return (await readJson<{ signed: Record<string, unknown> & { version: number } }>(path)).signed;
}

/** Asserts that `promise` rejects with a NotsotufError of `code`, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<NotsotufError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a NotsotufError ${code}, but nothing was thrown`);
  assert.ok(
    isNotsotufError(caught),
    `expected a NotsotufError ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`,
  );
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** Names in a directory, sorted ([] when it does not exist). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Files in `dir` that look like temp files (`.<name>.<hex>.tmp`) or any dot file. */
export async function leftoverTempFiles(dir: string): Promise<string[]> {
  return (await listDir(dir)).filter((n) => n.startsWith('.') || n.endsWith('.tmp'));
}

/** Moves the private half of key `name` out of `keysDir` into `toDir` (the `.pub` stays). */
export async function movePrivateKey(keysDir: string, name: string, toDir: string): Promise<void> {
  await mkdir(toDir, { recursive: true });
  await cp(join(keysDir, name), join(toDir, name));
  await rm(join(keysDir, name));
}

/** Copies every `.pub` file of `from` into `to` (existing ones are kept). */
export async function copyPublicKeys(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await listDir(from)) {
    if (name.endsWith('.pub')) await cp(join(from, name), join(to, name), { force: false });
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** `date` plus `days` days. */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** Now, rounded down to a whole second (expiry dates have no fractions, so clock math stays exact). */
export function wholeSecondNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}
