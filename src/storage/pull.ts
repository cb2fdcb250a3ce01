/**
 * `notsotuf pull --from <dest>`: brings a published repository's state into a working directory — every metadata
 * file and the latest archive of each app (the base of the next patch) — so a stateless CI runner can pull, add a
 * release and publish. Everything pulled is verified as a client would verify it before it is written, so a
 * tampered bucket cannot make the publisher sign on top of an attacker's metadata.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { groupReleases, latestRelease, type ReleaseFile } from '../core/releases.js';
import { sweepLeftovers } from '../repo/leftovers.js';
import { targetEntries } from '../repo/release-ops.js';
import { loadRepoState } from '../repo/state.js';
import { verifyRepository } from '../repo/verify.js';
import { peekVersion } from '../tuf/metadata.js';
import { moveFile, writeFileAtomic } from '../util/durable-fs.js';
import { digestsEqual, hashFile } from '../util/hash-file.js';
import { acquireLock } from '../util/lock-file.js';
import type { ObjectStore } from './object-store.js';
import { inUploadOrder } from './publish-plan.js';

export interface PullOptions {
  /** The working repository directory (created when missing). */
  readonly repoDir: string;
  readonly store: ObjectStore;
  /**
   * A root.json the pulled metadata must chain from (e.g. the one bundled with the app). Default: the local
   * `metadata/root.json` when the working directory has one; otherwise the destination's first root is trusted
   * on first use (reported as `trust: 'first-use'`).
   */
  readonly trustedRoot?: string;
  /** Download every target instead of only the latest archive of each app. */
  readonly allTargets?: boolean;
  readonly onProgress?: (event: { key: string; done: number; total: number }) => void;
}

export interface PullResult {
  readonly source: string;
  /** Metadata files written (new or changed), in the order they were written. */
  readonly metadata: readonly string[];
  /** Target files downloaded. */
  readonly targets: readonly string[];
  readonly trust: 'trusted-root' | 'local-root' | 'first-use';
  readonly rootVersion: number;
  readonly timestampVersion: number;
}

/** Far above any real metadata file; bounds what a hostile destination can make us hold in memory. */
const MAX_METADATA_BYTES = 64 << 20;
const METADATA_KEY = /^metadata\/[^/]+\.json$/;

function conflict(message: string, hint: string): NotsotufError {
  return new NotsotufError('PULL_CONFLICT', message, { hint });
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, { path, cause: err });
  });
}

/**
 * Pulls `store` into `repoDir`. Refuses (PULL_CONFLICT) when the working directory holds metadata the destination
 * does not — unpublished work is never overwritten — and (VERIFY_FAILED) when the destination does not verify.
 */
export async function pullRepository(options: PullOptions): Promise<PullResult> {
  const metadataDir = join(options.repoDir, 'metadata');
  const targetsDir = join(options.repoDir, 'targets');
  await mkdir(options.repoDir, { recursive: true });
  const releaseRepo = await acquireLock(
    join(options.repoDir, '.notsotuf.lock'),
    `The repository ${options.repoDir}`,
  );
  await sweepLeftovers(options.repoDir);
  const staging = await mkdtemp(join(options.repoDir, '.notsotuf-pull-'));
  try {
    const stagedMeta = join(staging, 'metadata');
    const stagedTargets = join(staging, 'targets');
    await mkdir(stagedMeta);
    await mkdir(stagedTargets);
    const remoteTargets = new Map((await options.store.list('targets/')).map((r) => [r.key, r]));
    const { changed, remoteTs } = await stageMetadata(options, stagedMeta, metadataDir);
    const { trust, rootVersion } = await verifyStaged(options, staging, metadataDir, remoteTargets);

    // Everything is downloaded and checked before anything is written: a failure leaves the directory as it was.
    const targets = await stageTargets(options, staging, targetsDir);
    await mkdir(metadataDir, { recursive: true });
    await mkdir(targetsDir, { recursive: true });
    for (const fileName of targets) await moveFile(join(stagedTargets, fileName), join(targetsDir, fileName));
    // Metadata in the order clients see files appear; timestamp.json last.
    for (const key of inUploadOrder(changed)) {
      const name = key.slice('metadata/'.length);
      await moveFile(join(stagedMeta, name), join(metadataDir, name));
    }
    return {
      source: options.store.description,
      metadata: inUploadOrder(changed),
      targets: targets.map((f) => `targets/${f}`),
      trust,
      rootVersion,
      timestampVersion: remoteTs,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await releaseRepo();
  }
}

/**
 * Downloads every metadata file of the destination into `stagedMeta`. Returns the keys that are new or changed
 * here and the destination's timestamp version. Throws METADATA_NOT_FOUND, and PULL_CONFLICT when the working
 * directory has diverged from the destination or is ahead of it.
 */
async function stageMetadata(
  options: PullOptions,
  stagedMeta: string,
  metadataDir: string,
): Promise<{ changed: string[]; remoteTs: number }> {
  const keys = (await options.store.list('metadata/')).map((r) => r.key).filter((k) => METADATA_KEY.test(k));
  if (!keys.includes('metadata/timestamp.json')) {
    throw new NotsotufError(
      'METADATA_NOT_FOUND',
      `${options.store.description} has no metadata/timestamp.json.`,
      {
        hint: 'Check the source: it should be where `notsotuf publish --to` uploaded the repository.',
      },
    );
  }
  const changed: string[] = [];
  for (const key of keys) {
    const bytes = await options.store.getBytes(key, MAX_METADATA_BYTES);
    if (!bytes) continue;
    const name = key.slice('metadata/'.length);
    await writeFileAtomic(join(stagedMeta, name), bytes);
    const mine = await readIfExists(join(metadataDir, name));
    if (mine?.equals(bytes)) continue;
    // Versioned metadata never changes once published: a different local copy is work that diverged.
    if (mine && /^\d+\./.test(name)) {
      throw conflict(
        `${metadataDir}/${name} differs from the one at ${options.store.description}.`,
        'The working directory and the destination have diverged; pull into an empty directory, or publish from the one that is ahead.',
      );
    }
    changed.push(key);
  }
  const localTs = peekVersion(await readIfExists(join(metadataDir, 'timestamp.json')));
  const remoteTs = peekVersion(await readFile(join(stagedMeta, 'timestamp.json'))) ?? 0;
  if (localTs !== undefined && localTs > remoteTs) {
    throw conflict(
      `${options.repoDir} is ahead of ${options.store.description} (timestamp version ${localTs} > ${remoteTs}).`,
      'Publish the working directory first (notsotuf publish --to …), or pull into an empty directory.',
    );
  }
  return { changed, remoteTs };
}

/**
 * Verifies the staged metadata as a client would, from the trusted root given, else the local root, else the
 * destination's own first root (trust on first use). Targets are checked against the destination's listing;
 * their bytes are checked when they are staged. Throws VERIFY_FAILED.
 */
async function verifyStaged(
  options: PullOptions,
  staging: string,
  metadataDir: string,
  remoteTargets: ReadonlyMap<string, { size: number }>,
): Promise<{ trust: PullResult['trust']; rootVersion: number }> {
  const localRoot = join(metadataDir, 'root.json');
  const trust = options.trustedRoot
    ? 'trusted-root'
    : (await readIfExists(localRoot))
      ? 'local-root'
      : 'first-use';
  const report = await verifyRepository(staging, {
    ...(trust === 'trusted-root' ? { trustedRoot: options.trustedRoot } : {}),
    ...(trust === 'local-root' ? { trustedRoot: localRoot } : {}),
    targetElsewhere: (fileName, length) => remoteTargets.get(`targets/${fileName}`)?.size === length,
  });
  if (!report.ok || report.rootVersion === undefined) {
    throw new NotsotufError(
      'VERIFY_FAILED',
      `The metadata at ${options.store.description} does not verify: ${report.problems[0]?.message ?? 'unknown problem'}.`,
      {
        hint:
          trust === 'first-use'
            ? 'Nothing was written. Check the destination (was it published by notsotuf or tufup?).'
            : 'Nothing was written. If the destination was tampered with, restore it from a trusted copy; if its root was rotated, check the chain starts from the root you trust.',
      },
    );
  }
  return { trust, rootVersion: report.rootVersion };
}

/**
 * Downloads the latest archive of each app (or every target) that the working directory does not already have
 * into `<staging>/targets/`, each checked against the length and hash the verified metadata signs. Returns the
 * file names staged.
 */
async function stageTargets(options: PullOptions, staging: string, targetsDir: string): Promise<string[]> {
  const state = await loadRepoState(staging);
  const releases = groupReleases(targetEntries(state.targets));
  const wanted: ReleaseFile[] = options.allTargets
    ? [...releases.values()]
        .flatMap((list) => list.flatMap((r) => [r.archive, r.patch]))
        .filter((f): f is ReleaseFile => f !== undefined)
    : [...releases.keys()].flatMap((app) => latestRelease(releases, app)?.archive ?? []);
  const staged: string[] = [];
  for (const [i, file] of wanted.entries()) {
    const fileName = state.layout.targetFileName(file.name, file.sha256 ?? '');
    options.onProgress?.({ key: `targets/${fileName}`, done: i, total: wanted.length });
    if (await matches(join(targetsDir, fileName), file)) continue;
    const path = join(staging, 'targets', fileName);
    if (!(await options.store.getFile(`targets/${fileName}`, path))) {
      throw new NotsotufError(
        'TARGET_FILE_MISSING',
        `${options.store.description} has no targets/${fileName}.`,
        {
          hint: 'The destination is incomplete: publish the repository again from a complete copy. Nothing was written.',
        },
      );
    }
    if (!(await matches(path, file))) {
      throw new NotsotufError(
        'TARGET_FILE_MISMATCH',
        `targets/${fileName} at ${options.store.description} does not match its signed length and hash.`,
        {
          hint: 'The destination is damaged or was tampered with; restore the file from a trusted copy. Nothing was written.',
        },
      );
    }
    staged.push(fileName);
  }
  if (wanted.length > 0) options.onProgress?.({ key: '', done: wanted.length, total: wanted.length });
  return staged;
}

async function matches(path: string, file: ReleaseFile): Promise<boolean> {
  const size = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (size !== file.length || !file.sha256) return false;
  return digestsEqual((await hashFile(path)).sha256, file.sha256);
}

/** Files of a private location (config and keys) that are not plain relative paths are refused. */
function safeRelative(key: string): boolean {
  const parts = key.split('/');
  return (
    !key.includes('\\') && !key.includes('\0') && parts.every((p) => p !== '' && p !== '.' && p !== '..')
  );
}

/**
 * Pulls a private location (the repository config and the key store, kept apart from what clients read) into
 * `dir`. Files are written owner-only (0600). A local file that differs is never overwritten: the whole pull is
 * refused before anything is written (PULL_CONFLICT).
 */
export async function pullPrivate(store: ObjectStore, dir: string): Promise<{ written: string[] }> {
  const objects = (await store.list('')).filter((o) => !o.key.startsWith('.notsotuf-'));
  const bad = objects.filter((o) => !safeRelative(o.key));
  if (bad.length > 0) {
    throw new NotsotufError(
      'PULL_UNSAFE_PATH',
      `${store.description} holds names that are not plain relative paths: ${bad
        .slice(0, 3)
        .map((o) => JSON.stringify(o.key))
        .join(', ')}.`,
      { hint: 'Remove or rename them at the private location; nothing was written.' },
    );
  }
  await mkdir(dir, { recursive: true });
  const staging = await mkdtemp(join(dir, '.notsotuf-pull-'));
  try {
    const fresh: { key: string; staged: string }[] = [];
    const differing: string[] = [];
    for (const [i, o] of objects.entries()) {
      const staged = join(staging, String(i));
      if (!(await store.getFile(o.key, staged))) continue;
      const mine = await readIfExists(join(dir, o.key));
      if (!mine) fresh.push({ key: o.key, staged });
      else if (!mine.equals(await readFile(staged))) differing.push(o.key);
    }
    if (differing.length > 0) {
      throw conflict(
        `${differing.length} file(s) in ${dir} differ from ${store.description}: ${differing.slice(0, 3).join(', ')}.`,
        'Nothing was written. Pull into a clean directory, or move the local files away if the private location is the one to keep.',
      );
    }
    for (const { key, staged } of fresh) {
      const target = join(dir, key);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFileAtomic(target, await readFile(staged), 0o600);
    }
    return { written: fresh.map((f) => f.key) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
