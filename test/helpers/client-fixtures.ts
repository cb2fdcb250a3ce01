/**
 * Helpers for client tests: a published repository (real publisher), served over real HTTP on 127.0.0.1, an
 * "installed" app made the way an installer would (archive extracted into the install dir, archive kept in the
 * client cache), and a Client wired to them.
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { Client } from '../../src/client/client.js';
import type { ClientOptions } from '../../src/client/options.js';
import type { Repository } from '../../src/repo/repository.js';
import { createTestRepo, type TestRepo, writeBundle } from './repo-fixtures.js';
import { type RepoServer, startRepoServer } from './tuf-client.js';

export interface ReleaseSpec {
  readonly version: string;
  readonly files: Record<string, string | Buffer>;
  readonly required?: boolean;
  readonly userMeta?: unknown;
  readonly skipPatch?: boolean;
  readonly patchCodec?: string;
}

/** Bundle contents for a version: a launcher printing the version, some text and a larger binary-ish file. */
export function appFiles(
  version: string,
  extra: Record<string, string | Buffer> = {},
): Record<string, string | Buffer> {
  const blob = Buffer.alloc(64 * 1024);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31 + (i >> 7)) & 0xff;
  blob.write(`version ${version}`, 1000);
  return {
    VERSION: `${version}\n`,
    'README.txt': 'A sample app for notsotuf client tests.\n',
    'lib/payload.bin': blob,
    'config/settings.json': JSON.stringify({ version }),
    ...extra,
  };
}

/**
 * A Node script app for the versioned layout: prints its version, confirms its health (`<root>/health/<v>.ok`),
 * records its version and arguments in `<root>/data/last-run.json` (where apps keep data that installs and
 * rollbacks leave alone) and exits with `--exit=N` when given. A `broken` build exits 3 before confirming.
 */
export function versionedScriptApp(version: string, broken = false): Record<string, string | Buffer> {
  return appFiles(version, {
    'app.mjs': [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      "import { join } from 'node:path';",
      `console.log('app ${version}');`,
      broken ? 'process.exit(3); // crashes before confirming' : '',
      'const root = process.env.NOTSOTUF_INSTALL_ROOT;',
      'const version = process.env.NOTSOTUF_VERSION;',
      'const args = process.argv.slice(2);',
      "mkdirSync(join(root, 'health'), { recursive: true });",
      "writeFileSync(join(root, 'health', version + '.ok'), '');",
      "mkdirSync(join(root, 'data'), { recursive: true });",
      "writeFileSync(join(root, 'data', 'last-run.json'), JSON.stringify({ version, args }));",
      "const exit = args.find((a) => a.startsWith('--exit='));",
      "process.exitCode = exit ? Number(exit.slice('--exit='.length)) : 0;",
      '',
    ].join('\n'),
  });
}

/** Adds releases to a repository with the real publisher. */
export async function publish(
  repo: Repository,
  work: string,
  releases: readonly ReleaseSpec[],
): Promise<void> {
  for (const r of releases) {
    const bundle = await writeBundle(join(work, `bundle-${r.version}`), r.files);
    await repo.addRelease({
      bundleDir: bundle,
      version: r.version,
      ...(r.required ? { required: true } : {}),
      ...(r.userMeta === undefined ? {} : { userMeta: r.userMeta }),
      ...(r.skipPatch ? { skipPatch: true } : {}),
      ...(r.patchCodec ? { patchCodec: r.patchCodec } : {}),
    });
  }
}

export interface PublishedRepo {
  readonly repo: TestRepo;
  readonly server: RepoServer;
  /** The root.json an app would bundle (the first root version). */
  readonly trustedRoot: string;
  close(): Promise<void>;
}

/** A repository for `app` with `releases` published, served over HTTP. */
export async function servedRepo(
  work: string,
  releases: readonly ReleaseSpec[],
  options: { appName?: string; consistentSnapshot?: boolean } = {},
): Promise<PublishedRepo> {
  const repo = await createTestRepo(join(work, 'publisher'), {
    appName: options.appName ?? 'app',
    ...(options.consistentSnapshot === false ? { consistentSnapshot: false } : {}),
  });
  await publish(await repo.open(), work, releases);
  const trustedRoot = join(work, 'bundled-root.json');
  await copyFile(join(repo.metadataDir, '1.root.json'), trustedRoot);
  const server = await startRepoServer(repo.repoDir);
  return { repo, server, trustedRoot, close: () => server.close() };
}

/**
 * What an installer does: extracts `archivePath` (a published .tar.gz) into `installDir` and keeps the archive in
 * the client cache as the base of the next patch (unless `cacheArchive` is false).
 */
export async function installArchive(
  archivePath: string,
  archiveName: string,
  installDir: string,
  cacheDir: string,
  cacheArchive = true,
): Promise<void> {
  await mkdir(dirname(installDir), { recursive: true });
  const tar = `${installDir}.tar`;
  await gunzipToFile(archivePath, tar);
  await rm(installDir, { recursive: true, force: true });
  await extractTar(tar, installDir);
  await rm(tar, { force: true });
  if (cacheArchive) {
    await mkdir(join(cacheDir, 'targets'), { recursive: true });
    await copyFile(archivePath, join(cacheDir, 'targets', archiveName));
  }
}

/** The published archive of `app-version` in a served repository (consistent or not). */
export async function publishedArchive(repo: TestRepo, name: string): Promise<string> {
  const targets = JSON.parse(await readFile(join(repo.metadataDir, 'targets.json'), 'utf8'));
  const root = JSON.parse(await readFile(join(repo.metadataDir, 'root.json'), 'utf8'));
  const sha = targets.signed.targets[name]?.hashes?.sha256;
  if (!sha) throw new Error(`${name} is not published`);
  return join(repo.targetsDir, root.signed.consistent_snapshot ? `${sha}.${name}` : name);
}

/** A Client of `served` for an app installed at `installDir`. */
export function clientFor(
  served: PublishedRepo,
  options: Partial<ClientOptions> & Pick<ClientOptions, 'currentVersion' | 'installDir' | 'cacheDir'>,
): Client {
  return new Client({
    appName: 'app',
    metadataUrl: `${served.server.url}/metadata/`,
    targetsUrl: `${served.server.url}/targets/`,
    trustedRoot: { path: served.trustedRoot },
    fetch: { retryDelayMs: 5, stallTimeoutMs: 5000 },
    ...options,
  });
}
