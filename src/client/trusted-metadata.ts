/**
 * The client's view of the repository: tuf-js refreshes the metadata, and notsotuf keeps the cache safe around it.
 * tuf-js writes its metadata files in place (a crash can tear them) and trusts whatever `root.json` it finds, so
 * it works in a scratch copy; the files it verified and persisted are then committed to the cache atomically, with
 * every accepted root version kept in `root-history/` so the cached root can be checked against the bundled one
 * next time (see root-chain.ts). The cache keeps tuf-js's unversioned names (`root.json` … `timestamp.json`).
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metadata, Root } from '@tufjs/models';
import { NotsotufError } from '../core/errors.js';
import type { TargetEntry } from '../core/releases.js';
import { createUpdater, type Fetcher, fromTufError, verifiedTargets } from '../tufjs/index.js';
import { tempPathFor, writeFileAtomic } from '../util/durable-fs.js';
import { parseRoot, parseTrustedRoot, rootChainValid } from './root-chain.js';

/** The fetcher the client hands to tuf-js, plus what the client needs to know about it. */
export interface MetadataFetcher extends Fetcher {
  readonly metadataBaseUrl: string;
  readonly targetBaseUrl: string;
  readonly lastFailure?: NotsotufError | undefined;
}

export interface TrustedMetadataOptions {
  /** The metadata cache (`<cacheDir>/metadata`). */
  readonly metadataDir: string;
  /** A directory for scratch files, on the same file system as the cache. */
  readonly workDir: string;
  /** The root.json the app bundles: the trust anchor. */
  readonly trustedRoot: Uint8Array;
  readonly fetcher: MetadataFetcher;
  readonly onWarning?: (message: string) => void;
}

export interface TrustedMetadata {
  readonly rootVersion: number;
  readonly targetsVersion: number;
  /** Every target of the verified targets metadata. */
  readonly targets: readonly TargetEntry[];
  /** True when `path` already holds the target `name` with the signed length and hashes. */
  findCachedTarget(name: string, path: string): Promise<boolean>;
  /** Downloads one target through tuf-js (length and hashes verified) to `destPath`, which appears only when valid. */
  downloadTarget(name: string, destPath: string): Promise<void>;
  /** Removes the scratch directory. */
  close(): Promise<void>;
}

/**
 * Subdirectory of the metadata cache with every accepted root version; not a `.json` name, so tools that list the
 * cache's roles (the TUF conformance suite) see only the unversioned files.
 */
const ROOT_HISTORY = 'root-history';
const VERSIONED_ROOT = /^([1-9]\d{0,8})\.root\.json$/;

async function readOptional(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch(() => undefined);
}

/**
 * Makes sure the cache holds a root that descends from the bundled one; otherwise (first run, corrupt or
 * tampered cache, or an app update that bundles a newer root) starts over from the bundled root.
 */
async function prepareCache(options: TrustedMetadataOptions, trusted: Metadata<Root>): Promise<void> {
  const dir = options.metadataDir;
  const history = join(dir, ROOT_HISTORY);
  await mkdir(dir, { recursive: true });
  const cachedBytes = await readOptional(join(dir, 'root.json'));
  const cached = cachedBytes ? parseRoot(cachedBytes) : undefined;
  if (cached && cached.signed.version >= trusted.signed.version) {
    const chain: Metadata<Root>[] = [];
    for (let v = trusted.signed.version + 1; v <= cached.signed.version; v++) {
      const bytes = await readOptional(join(history, `${v}.root.json`));
      const parsed = bytes ? parseRoot(bytes) : undefined;
      if (!parsed) break;
      chain.push(parsed);
    }
    if (rootChainValid(trusted, chain, cached)) return;
  }
  if (cachedBytes) {
    options.onWarning?.(
      cached && cached.signed.version < trusted.signed.version
        ? 'The app bundles a newer root than the metadata cache holds; starting from the bundled root.'
        : 'The cached metadata does not descend from the bundled root (corrupt or edited); starting over from the bundled root.',
    );
  }
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true, recursive: true });
  await writeFileAtomic(join(dir, 'root.json'), options.trustedRoot);
}

/** Records the root versions tuf-js downloads, so they can be kept in the cache after it accepted them. */
function recordingFetcher(inner: MetadataFetcher, roots: Map<number, Buffer>): Fetcher {
  return {
    downloadFile: (url, maxLength, handler) => inner.downloadFile(url, maxLength, handler),
    async downloadBytes(url, maxLength) {
      const bytes = await inner.downloadBytes(url, maxLength);
      const match = VERSIONED_ROOT.exec(url.slice(url.lastIndexOf('/') + 1));
      if (match) roots.set(Number(match[1]), bytes);
      return bytes;
    },
  };
}

/**
 * Copies what tuf-js verified and persisted in the scratch dir into the cache: new root versions first, timestamp
 * last. Also after a failed refresh: every file tuf-js persisted had passed verification (python-tuf keeps them
 * the same way), and following a key rotation is never wrong.
 */
async function commit(scratch: string, cacheDir: string, roots: Map<number, Buffer>) {
  const finalRoot = parseRoot((await readOptional(join(scratch, 'root.json'))) ?? Buffer.alloc(0));
  if (!finalRoot) return;
  const history = join(cacheDir, ROOT_HISTORY);
  await mkdir(history, { recursive: true });
  for (const [version, bytes] of [...roots].sort((a, b) => a[0] - b[0])) {
    if (version <= finalRoot.signed.version)
      await writeFileAtomic(join(history, `${version}.root.json`), bytes);
  }
  // Delegated targets roles are persisted by tuf-js too (`<role>.json`); root first, timestamp last.
  const files = (await readdir(scratch)).filter((f) => f.endsWith('.json'));
  const rank = (f: string) =>
    f === 'root.json' ? 0 : f === 'timestamp.json' ? 3 : f === 'snapshot.json' ? 2 : 1;
  for (const name of files.sort((a, b) => rank(a) - rank(b)).map((f) => f.slice(0, -'.json'.length))) {
    const fresh = await readOptional(join(scratch, `${name}.json`));
    if (!fresh) continue;
    const old = await readOptional(join(cacheDir, `${name}.json`));
    if (!old?.equals(fresh)) await writeFileAtomic(join(cacheDir, `${name}.json`), fresh);
  }
}

function wrongRootError(error: NotsotufError): NotsotufError {
  return new NotsotufError(error.code, error.message, {
    cause: error,
    details: { ...error.details, firstContact: true },
    hint: 'This app has not verified this repository before, so it most likely bundles the root.json of another repository: bundle this repository’s metadata/1.root.json (or its current root.json) as the trusted root. Nothing was installed.',
  });
}

/**
 * Refreshes the trusted metadata (root rotation, timestamp, snapshot, targets) and returns the verified target
 * list. Throws NotsotufError: METADATA_EXPIRED, METADATA_ROLLBACK, METADATA_SIGNATURE_INVALID, METADATA_INVALID,
 * DOWNLOAD_FAILED, DOWNLOAD_STALLED, DOWNLOAD_TOO_LARGE, ABORTED, INVALID_ARGUMENT (bad bundled root).
 */
export async function refreshTrustedMetadata(options: TrustedMetadataOptions): Promise<TrustedMetadata> {
  const trusted = parseTrustedRoot(options.trustedRoot);
  await prepareCache(options, trusted);
  await mkdir(options.workDir, { recursive: true });
  const scratch = await mkdtemp(join(options.workDir, 'tuf-'));
  const close = () => rm(scratch, { recursive: true, force: true });
  const roots = new Map<number, Buffer>();
  try {
    for (const name of await readdir(options.metadataDir)) {
      if (name.endsWith('.json')) await copyFile(join(options.metadataDir, name), join(scratch, name));
    }
    const updater = createUpdater({
      metadataDir: scratch,
      metadataBaseUrl: options.fetcher.metadataBaseUrl,
      targetBaseUrl: options.fetcher.targetBaseUrl,
      fetcher: recordingFetcher(options.fetcher, roots),
    });
    const work: ScratchRefresh = {
      updater,
      scratch,
      options,
      commit: () => commit(scratch, options.metadataDir, roots),
    };
    await refreshInScratch(work);
    return await trustedMetadataOf(work, close);
  } catch (err) {
    await close();
    throw err;
  }
}

/** A tuf-js updater working in a scratch copy of the cache, and how to commit what it verified. */
interface ScratchRefresh {
  readonly updater: ReturnType<typeof createUpdater>;
  readonly scratch: string;
  readonly options: TrustedMetadataOptions;
  readonly commit: () => Promise<void>;
}

/** Runs tuf-js's refresh and commits what it verified, also when it failed (see `commit`). */
async function refreshInScratch(work: ScratchRefresh): Promise<void> {
  const { updater, options } = work;
  // No timestamp yet: this client never verified this repository, so a signature mismatch most likely means
  // that the app bundles another repository's root.json, not that someone tampers with this one.
  const firstContact = (await readOptional(join(options.metadataDir, 'timestamp.json'))) === undefined;
  try {
    await updater.refresh();
  } catch (err) {
    await work.commit().catch(() => {});
    const error = fromTufError(err, 'refresh', options.fetcher.lastFailure);
    throw firstContact && error.code === 'METADATA_SIGNATURE_INVALID' ? wrongRootError(error) : error;
  }
  await work.commit();
}

/** The refreshed metadata as the client reads it: versions, targets, and target lookup and download. */
async function trustedMetadataOf(work: ScratchRefresh, close: () => Promise<void>): Promise<TrustedMetadata> {
  const { updater, scratch, options } = work;
  const targets = verifiedTargets(updater).targets;
  // A name that is not a top-level target is looked up through the delegations; tuf-js persists every delegated
  // role it verifies on the way, and those belong in the cache as much as the top-level ones (found or not).
  const lookup = async (name: string) => {
    if (Object.hasOwn(targets, name)) return targets[name];
    try {
      return await updater.getTargetInfo(name);
    } finally {
      await work.commit();
    }
  };
  const read = async (role: string) =>
    JSON.parse(await readFile(join(scratch, `${role}.json`), 'utf8')).signed.version as number;
  const [rootVersion, targetsVersion] = [await read('root'), await read('targets')];
  return {
    rootVersion,
    targetsVersion,
    targets: Object.entries(targets).map(([name, t]) => ({
      name,
      length: t.length,
      hashes: t.hashes,
      custom: t.unrecognizedFields['custom'],
    })),
    async findCachedTarget(name, path) {
      const info = await lookup(name).catch(() => undefined);
      return info ? (await updater.findCachedTarget(info, path)) !== undefined : false;
    },
    async downloadTarget(name, destPath) {
      const info = await lookup(name).catch(() => undefined);
      if (!info) {
        throw new NotsotufError(
          'TARGET_FILE_MISSING',
          `${name} is not listed in the trusted targets metadata.`,
        );
      }
      const tmp = tempPathFor(destPath);
      try {
        await updater.downloadTarget(info, tmp);
        await rename(tmp, destPath);
      } catch (err) {
        throw fromTufError(err, 'download', options.fetcher.lastFailure);
      } finally {
        await rm(tmp, { force: true });
      }
    },
    close,
  };
}
