/**
 * `notsotuf publish`: uploads a repository directory to a destination in an order clients never see half-done
 * (see publish-plan.ts), under a lock, and reads back what clients read to check it arrived.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { cacheControlFor, contentTypeFor } from '../core/http-headers.js';
import { verifyRepository } from '../repo/verify.js';
import { digestFile, digestsEqual } from '../util/hash-file.js';
import { acquireLock } from '../util/lock-file.js';
import type { ObjectStore } from './object-store.js';
import { acquirePublishLock } from './publish-lock.js';
import { type LocalFile, type Phase, planPublish } from './publish-plan.js';

export interface PublishOptions {
  /** The repository directory (`metadata/` and `targets/`). */
  readonly repoDir: string;
  readonly store: ObjectStore;
  /** Plan only: lists what would be uploaded, changes nothing (no lock taken). */
  readonly dryRun?: boolean;
  /** Called before each upload and after the last. */
  readonly onProgress?: (event: { phase: Phase; key: string; done: number; total: number }) => void;
  readonly lockTtlMs?: number;
  readonly signal?: AbortSignal;
}

export interface PublishResult {
  readonly destination: string;
  /** Keys uploaded (or, for a dry run, to upload), in order. */
  readonly uploaded: readonly string[];
  readonly unchanged: number;
  /** Keys at the destination the repository no longer has (left in place). */
  readonly remoteOnly: readonly string[];
  readonly dryRun: boolean;
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

function timestampVersion(bytes: Buffer | undefined): number | undefined {
  if (!bytes) return undefined;
  try {
    const v = (JSON.parse(bytes.toString('utf8')) as { signed?: { version?: unknown } }).signed?.version;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new NotsotufError('ABORTED', 'Publishing was aborted; run it again to finish (it resumes).', {
      cause: signal.reason,
    });
  }
}

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
  const report = await verifyRepository(options.repoDir);
  if (!report.ok) {
    throw new NotsotufError(
      'VERIFY_FAILED',
      `${options.repoDir} does not verify: ${report.problems[0]?.message ?? 'unknown problem'}.`,
      { hint: 'Run `notsotuf verify` and fix the repository before publishing it.' },
    );
  }
  const local = await localFiles(options.repoDir);
  aborted(signal);
  const release = options.dryRun
    ? async () => {}
    : await acquirePublishLock(store, { ttlMs: options.lockTtlMs });
  try {
    const remote = [...(await store.list('metadata/')), ...(await store.list('targets/'))];
    const remoteTs = timestampVersion(await store.getBytes('metadata/timestamp.json', MAX_METADATA_BYTES));
    const localTsFile = local.find((f) => f.key === 'metadata/timestamp.json');
    const localTs = localTsFile ? timestampVersion(await readFile(localTsFile.path)) : undefined;
    if (remoteTs !== undefined && localTs !== undefined && remoteTs > localTs) {
      throw new NotsotufError(
        'PUBLISH_CONFLICT',
        `${store.description} is newer (timestamp version ${remoteTs}) than ${options.repoDir} (${localTs}).`,
        {
          hint: "Another publisher went ahead: copy the destination's metadata/ and targets/ into your repository directory, add your release there, then publish.",
        },
      );
    }
    const plan = planPublish(local, remote);
    const uploaded: string[] = [];
    if (!options.dryRun) {
      for (const [i, file] of plan.uploads.entries()) {
        aborted(signal);
        options.onProgress?.({ phase: file.phase, key: file.key, done: i, total: plan.uploads.length });
        await store.putFile(file.key, file.path, {
          contentType: contentTypeFor(file.key),
          cacheControl: cacheControlFor(file.key),
          sha256: file.sha256,
        });
        uploaded.push(file.key);
      }
      await verifyUploads(store, plan.uploads);
    }
    const last = plan.uploads.at(-1);
    if (last)
      options.onProgress?.({
        phase: last.phase,
        key: last.key,
        done: plan.uploads.length,
        total: plan.uploads.length,
      });
    return {
      destination: store.description,
      uploaded: options.dryRun ? plan.uploads.map((u) => u.key) : uploaded,
      unchanged: plan.unchanged.length,
      remoteOnly: plan.remoteOnly,
      dryRun: options.dryRun ?? false,
    };
  } finally {
    await release();
  }
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
