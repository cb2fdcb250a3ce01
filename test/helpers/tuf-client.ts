/**
 * A real TUF client for the tests: tuf-js's `Updater` over HTTP against `serveDirectory`, seeded with a trusted
 * root file. Every check builds a new Updater (tuf-js fixes its reference time at construction), optionally on the
 * same metadata directory so that a client with cached metadata can be simulated across publishes.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetFile } from '@tufjs/models';
import { Updater } from 'tuf-js';
import { type RunningServer, serveDirectory } from '../../src/server/static-server.js';

export interface RepoServer extends RunningServer {
  /** Every request path so far, in order (metadata and targets). */
  readonly requests: string[];
}

/** Serves a repository directory over HTTP on 127.0.0.1, recording request paths. Close it in `after`. */
export async function startRepoServer(repoDir: string): Promise<RepoServer> {
  const requests: string[] = [];
  const server = await serveDirectory({ root: repoDir, onRequest: (r) => requests.push(r.path) });
  return Object.assign(server, { requests });
}

export interface ClientResult {
  /** Version of the root the client trusts after refresh (read from its metadata cache). */
  readonly rootVersion: number;
  /** Version of the targets metadata the client trusts. */
  readonly targetsVersion: number;
  /** Target name → what tuf-js knows about it (verified against trusted metadata). */
  readonly infos: ReadonlyMap<string, TargetFile>;
  /** Target name → the bytes tuf-js downloaded and verified. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Request paths made during this check. */
  readonly requests: readonly string[];
}

export interface TufClient {
  /** The client's metadata cache (its `root.json` is the trusted root). */
  readonly metadataDir: string;
  readonly targetDir: string;
  /** refresh() with a new Updater, then getTargetInfo + downloadTarget for each name (missing → assertion). */
  check(names?: readonly string[]): Promise<ClientResult>;
  /** Only refresh(); rejects with tuf-js's error when the repository does not verify. */
  refresh(): Promise<Updater>;
  /** Removes the client's directories. */
  cleanup(): Promise<void>;
}

/** A tuf-js client of `server` that initially trusts the root file `trustedRoot`. */
export async function createTufClient(server: RepoServer, trustedRoot: string): Promise<TufClient> {
  const work = await mkdtemp(join(tmpdir(), 'notsotuf-client-'));
  const metadataDir = join(work, 'metadata');
  const targetDir = join(work, 'targets');
  await mkdir(metadataDir);
  await mkdir(targetDir);
  await copyFile(trustedRoot, join(metadataDir, 'root.json'));
  let downloads = 0;

  const makeUpdater = () =>
    new Updater({
      metadataDir,
      metadataBaseUrl: `${server.url}/metadata/`,
      targetDir,
      targetBaseUrl: `${server.url}/targets/`,
    });

  const refresh = async () => {
    const updater = makeUpdater();
    await updater.refresh();
    return updater;
  };

  return {
    metadataDir,
    targetDir,
    refresh,
    async check(names = []) {
      const first = server.requests.length;
      const updater = await refresh();
      const infos = new Map<string, TargetFile>();
      const files = new Map<string, Buffer>();
      for (const name of names) {
        const info = await updater.getTargetInfo(name);
        assert.ok(info, `tuf-js does not know the target ${name}`);
        infos.set(name, info);
        const path = join(targetDir, `download-${downloads++}.bin`);
        const written = await updater.downloadTarget(info, path);
        files.set(name, await readFile(written));
      }
      const root = JSON.parse(await readFile(join(metadataDir, 'root.json'), 'utf8'));
      const targets = JSON.parse(await readFile(join(metadataDir, 'targets.json'), 'utf8'));
      return {
        rootVersion: root.signed.version,
        targetsVersion: targets.signed.version,
        infos,
        files,
        requests: server.requests.slice(first),
      };
    },
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}

/**
 * Starts a server for `repoDir`, lets a fresh client trusting `trustedRoot` download `names`, and checks each
 * download is byte-identical to the file in `targets/` (`<sha256>.<name>` when the latest root says consistent
 * snapshots).
 */
export async function assertClientAccepts(
  repoDir: string,
  trustedRoot: string,
  names: readonly string[],
): Promise<ClientResult> {
  const latestRoot = JSON.parse(await readFile(join(repoDir, 'metadata', 'root.json'), 'utf8'));
  const consistent = latestRoot.signed.consistent_snapshot === true;
  const server = await startRepoServer(repoDir);
  const client = await createTufClient(server, trustedRoot);
  try {
    const result = await client.check(names);
    for (const name of names) {
      const info = result.infos.get(name)!;
      const sha256 = info.hashes['sha256'];
      assert.ok(sha256, `${name} has a sha256 hash`);
      const onDisk = join(repoDir, 'targets', consistent ? `${sha256}.${name}` : name);
      assert.deepEqual(result.files.get(name), await readFile(onDisk), `downloaded ${name} equals ${onDisk}`);
    }
    return result;
  } finally {
    await client.cleanup();
    await server.close();
  }
}
