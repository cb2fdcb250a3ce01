import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTargetCustom } from '../core/custom-metadata.js';
import { isNotsotufError } from '../core/errors.js';
import { ResilientFetcher } from '../transport/index.js';
import { createUpdater, fromTufError, verifiedRoot, verifiedTargets } from '../tufjs/index.js';
import { RepoLayout } from './layout.js';

export interface VerifyProblem {
  /** The target concerned, or undefined for metadata problems. */
  readonly target?: string;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** The root version a client ends up trusting. */
  readonly rootVersion?: number;
  readonly targetsVersion?: number;
  readonly targetsChecked: number;
  readonly problems: readonly VerifyProblem[];
}

export interface VerifyOptions {
  /**
   * The root to start from (a file). Default: the oldest root in the repository, so every rotation since is
   * checked like an old client would. `pull` passes the root it already trusts.
   */
  readonly trustedRoot?: string;
  /**
   * For a target whose file is not in `targets/`: whether a copy elsewhere (the published destination) has the
   * signed length and hash. Without it a missing file is a problem.
   */
  readonly targetElsewhere?: (fileName: string, length: number, sha256: string) => boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Loads a repository directory exactly as a client would — tuf-js, starting from the first root and walking
 * every root rotation — then downloads every target and checks its length and hash. Collects all problems
 * instead of stopping at the first. It goes the client's way: the same tuf-js adapter (tufjs/, with its
 * corrections and its reading of tuf-js's errors) and the same fetcher (transport/).
 */
export async function verifyRepository(repoDir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const work = await mkdtemp(join(tmpdir(), 'notsotuf-verify-'));
  const problems: VerifyProblem[] = [];
  try {
    const client = await clientOf(repoDir, work, options);
    const { updater, fetcher } = client;
    try {
      await updater.refresh();
    } catch (err) {
      const error = fromTufError(err, 'refresh', fetcher.lastFailure);
      problems.push({ message: `metadata does not verify: ${error.message} (${error.code})` });
      return { ok: false, targetsChecked: 0, problems };
    }
    const [root, trustedTargets] = [verifiedRoot(updater), verifiedTargets(updater)];
    const targetNames = Object.keys(trustedTargets.targets).sort();
    const layout = new RepoLayout(repoDir, root.consistentSnapshot);
    let checked = 0;
    for (const name of targetNames) {
      try {
        await checkTarget(client, layout, name, `${checked}.bin`, options);
        checked++;
      } catch (err) {
        problems.push({ target: name, message: isNotsotufError(err) ? err.message : describe(err) });
      }
    }
    return {
      ok: problems.length === 0,
      rootVersion: root.version,
      targetsVersion: trustedTargets.version,
      targetsChecked: checked,
      problems,
    };
  } catch (err) {
    problems.push({ message: describe(err) });
    return { ok: false, targetsChecked: 0, problems };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A client of the repository directory, with its own metadata and targets directories in `work`. */
interface VerifyingClient {
  readonly updater: ReturnType<typeof createUpdater>;
  readonly fetcher: ResilientFetcher;
  readonly clientTargets: string;
}

async function clientOf(repoDir: string, work: string, options: VerifyOptions): Promise<VerifyingClient> {
  const metadataDir = join(repoDir, 'metadata');
  const clientMeta = join(work, 'metadata');
  const clientTargets = join(work, 'targets');
  await mkdir(clientMeta);
  await mkdir(clientTargets);
  // Trust the oldest root on disk, so every rotation since is checked like an old client would.
  const names = await readdir(metadataDir).catch(() => [] as string[]);
  const firstRoot = names.includes('1.root.json') ? '1.root.json' : 'root.json';
  await copyFile(options.trustedRoot ?? join(metadataDir, firstRoot), join(clientMeta, 'root.json'));
  // Plain directories are read from the file system; a missing file answers 404 like a web server.
  const fetcher = new ResilientFetcher([{ metadataUrl: metadataDir, targetsUrl: join(repoDir, 'targets') }]);
  const updater = createUpdater({
    metadataDir: clientMeta,
    metadataBaseUrl: fetcher.metadataBaseUrl,
    targetDir: clientTargets,
    targetBaseUrl: fetcher.targetBaseUrl,
    fetcher,
  });
  return { updater, fetcher, clientTargets };
}

/**
 * Checks one target: its custom metadata, then its bytes (downloaded through tuf-js into `scratchName`), or, when
 * the file is not here, the destination's copy (`targetElsewhere`). Throws what is wrong.
 */
async function checkTarget(
  client: VerifyingClient,
  layout: RepoLayout,
  name: string,
  scratchName: string,
  options: VerifyOptions,
): Promise<void> {
  const { updater, fetcher, clientTargets } = client;
  const info = await updater.getTargetInfo(name);
  if (!info) throw new Error('not found in trusted targets');
  parseTargetCustom(info.custom, name);
  const sha256 = info.hashes.sha256 ?? '';
  const fileName = layout.targetFileName(name, sha256);
  if (options.targetElsewhere && !(await exists(join(layout.targetsDir, fileName)))) {
    if (!options.targetElsewhere(fileName, info.length, sha256)) {
      throw new Error(
        `targets/${fileName} is neither here nor at the destination with its signed length and hash`,
      );
    }
    return;
  }
  await updater.downloadTarget(info, join(clientTargets, scratchName)).catch((err: unknown) => {
    throw fromTufError(err, 'download', fetcher.lastFailure);
  });
  await rm(join(clientTargets, scratchName), { force: true });
}
