/**
 * `notsotuf publish`: uploads a repository directory to a destination in an order clients never see half-done
 * (see publish-plan.ts), under a lock, and reads back what clients read to check it arrived.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { cacheControlFor, contentTypeFor } from '../core/http-headers.js';
import { loadRepoState } from '../repo/state.js';
import { verifyRepository } from '../repo/verify.js';
import { peekVersion } from '../tuf/metadata.js';
import { digestFile, digestsEqual } from '../util/hash-file.js';
import { acquireLock } from '../util/lock-file.js';
import type { ObjectStore, RemoteObject } from './object-store.js';
import { type PruneOptions, updateJournalAndPrune } from './prune.js';
import { acquirePublishLock } from './publish-lock.js';
import { type LocalFile, type Phase, type PublishPlan, planPublish } from './publish-plan.js';

export interface PublishOptions {
  /** The repository directory (`metadata/` and `targets/`). */
  readonly repoDir: string;
  readonly store: ObjectStore;
  /** Plan only: lists what would be uploaded, changes nothing (no lock taken). */
  readonly dryRun?: boolean;
  /** Called before each upload, as bytes go out (where the store reports it), and after the last. */
  readonly onProgress?: (event: PublishProgress) => void;
  readonly lockTtlMs?: number;
  readonly signal?: AbortSignal;
  /** After publishing, delete files no repository state still in use references (see prune-plan.ts). */
  readonly prune?: PruneOptions;
}

export interface PublishProgress {
  readonly phase: Phase;
  readonly key: string;
  /** Files finished, of `files`. */
  readonly filesDone: number;
  readonly files: number;
  /** Bytes sent, of `bytes` (all files of the publish). */
  readonly bytesDone: number;
  readonly bytes: number;
}

export interface PublishResult {
  readonly destination: string;
  /** Keys uploaded (or, for a dry run, to upload), in order. */
  readonly uploaded: readonly string[];
  readonly unchanged: number;
  /** Keys at the destination that no current metadata references (left in place unless pruned). */
  readonly remoteOnly: readonly string[];
  readonly dryRun: boolean;
  /** With `prune`: keys deleted (for a dry run, that would be). */
  readonly pruned?: readonly string[];
  /** With `prune`: why nothing could be pruned yet, when that is so. */
  readonly pruneBlockedBy?: string;
}

/** Largest metadata file read back: far above any real one, small enough to hold in memory. */
const MAX_METADATA_BYTES = 64 << 20;

/** The files a publish considers: `metadata/*.json` and every file in `targets/`. */
async function localFiles(repoDir: string): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for (const dir of ['metadata', 'targets']) {
    const entries = await readdir(join(repoDir, dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile() || (dir === 'metadata' && !e.name.endsWith('.json'))) continue;
      const path = join(repoDir, dir, e.name);
      // MD5 too: what S3 ETags and rclone listings report (a change check, not a security check).
      out.push({ key: `${dir}/${e.name}`, path, ...(await digestFile(path, ['sha256', 'md5'])) });
    }
  }
  return out;
}

const PUBLISH_ABORTED = 'Publishing was aborted; run it again to finish (it resumes).';

/**
 * Publishes `repoDir` to `store`. The repository is first verified as a client would load it; nothing is
 * uploaded from a broken one. Re-running after an interruption uploads only what is missing or changed.
 *
 * @throws NotsotufError VERIFY_FAILED (local repository), STORAGE_LOCKED, PUBLISH_CONFLICT (the destination is
 *   newer or has other published files), STORAGE_FAILED, PUBLISH_VERIFY_FAILED, ABORTED.
 */
export async function publishRepository(options: PublishOptions): Promise<PublishResult> {
  const { store, signal } = options;
  // The repository's own lock: a release being added meanwhile would be published half-written.
  const releaseRepo = await acquireLock(
    join(options.repoDir, '.notsotuf.lock'),
    `The repository ${options.repoDir}`,
  );
  try {
    return await publishLocked(options, store, signal);
  } finally {
    await releaseRepo();
  }
}

async function publishLocked(
  options: PublishOptions,
  store: ObjectStore,
  signal: AbortSignal | undefined,
): Promise<PublishResult> {
  const local = await localFiles(options.repoDir);
  checkAborted(signal, PUBLISH_ABORTED);
  const release = options.dryRun
    ? async () => {}
    : await acquirePublishLock(store, { ttlMs: options.lockTtlMs });
  try {
    const remote = [...(await store.list('metadata/')), ...(await store.list('targets/'))];
    await verifyBeforePublish(options.repoDir, remote);
    const current = await currentStateFiles(options.repoDir);
    await checkNotBehind(options.repoDir, store, local);
    const plan = planPublish(local, remote);
    const uploaded: string[] = [];
    if (!options.dryRun) {
      uploaded.push(...(await uploadInOrder(options, store, plan.uploads, signal)));
      await verifyUploads(store, plan.uploads);
    }
    const pruned = await updateJournalAndPrune(store, {
      entry: { snapshot: current.snapshot, publishedAt: new Date().toISOString(), files: current.files },
      remoteKeys: remote.map((r) => r.key),
      localKeys: new Set(local.map((f) => f.key)),
      dryRun: options.dryRun ?? false,
      ...(options.prune ? { prune: options.prune } : {}),
    });
    const referenced = new Set(current.files);
    return {
      destination: store.description,
      uploaded: options.dryRun ? plan.uploads.map((u) => u.key) : uploaded,
      unchanged: plan.unchanged.length,
      remoteOnly: plan.remoteOnly.filter((k) => !referenced.has(k) && !pruned.deleted.includes(k)),
      dryRun: options.dryRun ?? false,
      ...(options.prune ? { pruned: pruned.deleted } : {}),
      ...(pruned.blockedBy ? { pruneBlockedBy: pruned.blockedBy } : {}),
    };
  } finally {
    await release();
  }
}

/**
 * Refuses (PUBLISH_CONFLICT) to publish over a destination whose timestamp is newer than the local one: another
 * publisher went ahead, and uploading would roll it back.
 */
async function checkNotBehind(
  repoDir: string,
  store: ObjectStore,
  local: readonly LocalFile[],
): Promise<void> {
  const remoteTs = peekVersion(await store.getBytes('metadata/timestamp.json', MAX_METADATA_BYTES));
  const localTsFile = local.find((f) => f.key === 'metadata/timestamp.json');
  const localTs = localTsFile ? peekVersion(await readFile(localTsFile.path)) : undefined;
  if (remoteTs !== undefined && localTs !== undefined && remoteTs > localTs) {
    throw new NotsotufError(
      'PUBLISH_CONFLICT',
      `${store.description} is newer (timestamp version ${remoteTs}) than ${repoDir} (${localTs}).`,
      {
        hint: `Another publisher went ahead: run \`notsotuf pull --from <destination>\` to bring its state into ${repoDir}, add your release again, then publish.`,
      },
    );
  }
}

/** Uploads the files in plan order (timestamp.json last), reporting progress; returns the keys uploaded. */
async function uploadInOrder(
  options: PublishOptions,
  store: ObjectStore,
  uploads: PublishPlan['uploads'],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const uploaded: string[] = [];
  const bytes = uploads.reduce((n, f) => n + f.size, 0);
  let sent = 0;
  const files = uploads.length;
  for (const [i, file] of uploads.entries()) {
    checkAborted(signal, PUBLISH_ABORTED);
    const progress = (loaded: number) =>
      options.onProgress?.({
        phase: file.phase,
        key: file.key,
        filesDone: i,
        files,
        bytesDone: sent + loaded,
        bytes,
      });
    progress(0);
    await store.putFile(file.key, file.path, {
      contentType: contentTypeFor(file.key),
      cacheControl: cacheControlFor(file.key),
      sha256: file.sha256,
      onProgress: progress,
    });
    sent += file.size;
    uploaded.push(file.key);
  }
  const last = uploads.at(-1);
  if (last) {
    options.onProgress?.({
      phase: last.phase,
      key: last.key,
      filesDone: files,
      files,
      bytesDone: bytes,
      bytes,
    });
  }
  return uploaded;
}

/**
 * The local repository must load as a client would load it before anything is uploaded. Targets missing locally
 * are fine when the destination has them with their signed length (and hash, where it reports one): a
 * repository brought in with `notsotuf pull` holds only the latest archive.
 */
async function verifyBeforePublish(repoDir: string, remote: readonly RemoteObject[]): Promise<void> {
  const remoteByKey = new Map(remote.map((r) => [r.key, r]));
  const report = await verifyRepository(repoDir, {
    targetElsewhere: (fileName, length, sha256) => {
      const there = remoteByKey.get(`targets/${fileName}`);
      return (
        there !== undefined &&
        there.size === length &&
        (there.sha256 === undefined || digestsEqual(there.sha256, sha256))
      );
    },
  });
  if (!report.ok) {
    throw new NotsotufError(
      'VERIFY_FAILED',
      `${repoDir} does not verify: ${report.problems[0]?.message ?? 'unknown problem'}.`,
      { hint: 'Run `notsotuf verify` and fix the repository before publishing it.' },
    );
  }
}

/** The keys the repository's current state references: its versioned snapshot/targets metadata and targets. */
async function currentStateFiles(repoDir: string): Promise<{ snapshot: number; files: string[] }> {
  const state = await loadRepoState(repoDir);
  const { layout } = state;
  const files = Object.values(state.targets.signed.targets).map(
    (t) => `targets/${layout.targetFileName(t.path, t.hashes.sha256 ?? '')}`,
  );
  if (layout.consistentSnapshot) {
    files.push(
      `metadata/${state.snapshot.signed.version}.snapshot.json`,
      `metadata/${state.targets.signed.version}.targets.json`,
    );
  }
  return { snapshot: state.snapshot.signed.version, files: files.sort() };
}

/**
 * Reads back what clients read: every uploaded metadata file whole (its sha256 must match), and the listing of
 * the targets (size, and the hash where the store reports one).
 */
async function verifyUploads(store: ObjectStore, uploads: readonly LocalFile[]): Promise<void> {
  const bad: string[] = [];
  const targets = new Map((await store.list('targets/')).map((r) => [r.key, r]));
  for (const file of uploads) {
    if (file.key.startsWith('metadata/')) {
      const bytes = await store.getBytes(file.key, MAX_METADATA_BYTES);
      if (!bytes || !digestsEqual(createHash('sha256').update(bytes).digest('hex'), file.sha256))
        bad.push(file.key);
    } else {
      const there = targets.get(file.key);
      const hashOk =
        there?.sha256 !== undefined
          ? there.sha256 === file.sha256
          : there?.md5 === undefined || there.md5 === file.md5;
      if (!there || there.size !== file.size || !hashOk) bad.push(file.key);
    }
  }
  if (bad.length > 0) {
    throw new NotsotufError(
      'PUBLISH_VERIFY_FAILED',
      `${bad.length} file(s) did not read back as uploaded from ${store.description}: ${bad.slice(0, 3).join(', ')}.`,
      {
        hint: 'Run the publish again (it re-uploads what differs); if it persists, check the storage service.',
      },
    );
  }
}
