/**
 * `notsotuf client update|check` on a versioned install root (install.json, versions/<v>/), as real processes
 * against a repository served on 127.0.0.1: the CLI must install each release into its own version directory and
 * switch install.json (the versioned strategy, as the Client API picks it by layout), never copy the release over
 * the root; and it must refuse, with a stable code and nothing changed, what it cannot do there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { readInstallState, versionedStrategy } from '../../src/install/index.js';
import { appFiles, type PublishedRepo, publishedArchive, servedRepo } from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';
import { assertExit, type CliResult, PROJECT_ROOT, runCli } from './run-cli.js';

const LAUNCHER = join(PROJECT_ROOT, 'dist', 'install', 'launcher', 'main.js');

/** A Node script app that prints its version and confirms its health, as an app embedding the client would. */
function scriptApp(version: string): Record<string, string | Buffer> {
  return appFiles(version, {
    'app.mjs': [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      "import { join } from 'node:path';",
      `console.log('app ${version}');`,
      "mkdirSync(join(process.env.NOTSOTUF_INSTALL_ROOT, 'health'), { recursive: true });",
      "writeFileSync(join(process.env.NOTSOTUF_INSTALL_ROOT, 'health', process.env.NOTSOTUF_VERSION + '.ok'), '');",
      '',
    ].join('\n'),
  });
}

const V1 = scriptApp('1.0.0');
const V2 = scriptApp('1.1.0');

/** The names a versioned install root may hold at its top level (docs/install.md), never release files. */
const LAYOUT_NAMES = new Set(['install.json', 'versions', 'health', 'data', 'launcher.log']);

function assertFailed(r: CliResult, code: string, what: string): void {
  assertExit(r, 1, what);
  assert.match(r.stderr, new RegExp(`^error ${code}: `, 'm'), `${what}: stderr names ${code}\n${r.stderr}`);
  assert.match(r.stderr, /^\s*hint: \S/m, `${what}: a hint says what to do\n${r.stderr}`);
}

describe('notsotuf client on a versioned install root (real processes, HTTP on 127.0.0.1)', {
  timeout: 240_000,
}, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-cli-versioned-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: V1 },
      { version: '1.1.0', files: V2 },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  /** What an installer does: 1.0.0 into a fresh versioned root, its archive into the client cache. */
  async function installedRoot(): Promise<{ root: string; cacheDir: string }> {
    const dir = join(work, `case-${n++}`);
    const root = join(dir, 'root');
    const cacheDir = join(dir, 'cache');
    const name = 'app-1.0.0.tar.gz';
    const archive = await publishedArchive(served.repo, name);
    await mkdir(root, { recursive: true });
    await gunzipToFile(archive, join(dir, 'installer.tar'));
    await extractTar(join(dir, 'installer.tar'), join(dir, 'installer'));
    await versionedStrategy({ entry: 'app.mjs' }).install({
      sourceDir: join(dir, 'installer'),
      installDir: root,
      version: '1.0.0',
    });
    await mkdir(join(cacheDir, 'targets'), { recursive: true });
    await copyFile(archive, join(cacheDir, 'targets', name));
    return { root, cacheDir };
  }

  function args(
    command: 'check' | 'update',
    dirs: { root: string; cacheDir: string },
    extra: readonly string[] = [],
    version = '1.0.0',
  ): string[] {
    const url = served.server.url;
    return [
      'client',
      command,
      '--app',
      'app',
      '--current-version',
      version,
      '--install-dir',
      dirs.root,
      '--cache-dir',
      dirs.cacheDir,
      '--metadata-url',
      `${url}/metadata/`,
      '--targets-url',
      `${url}/targets/`,
      '--trusted-root',
      served.trustedRoot,
      ...extra,
    ];
  }

  const run = (argv: readonly string[]) => runCli(argv, { cwd: work });

  test('update installs 1.1.0 into versions/1.1.0 and switches install.json; the entry point starts it', async () => {
    const dirs = await installedRoot();
    const v1Before = await snapshotTree(join(dirs.root, 'versions', '1.0.0'));
    const r = await run(args('update', dirs, ['--json']));
    assertExit(r, 0, 'client update --json on a versioned root');
    const out = r.json<Record<string, unknown>>();
    assert.equal(out['version'], '1.1.0');
    assert.equal(out['outcome'], 'installed');
    assert.equal(out['method'], 'patch');

    const state = await readInstallState(dirs.root);
    assert.equal(state?.current, '1.1.0');
    assert.equal(state?.previous, '1.0.0');
    assert.equal(state?.trial?.version, '1.1.0');
    assert.equal(state?.entry, 'app.mjs');
    // The release went into its own directory, exactly; the previous version and the root's top level are intact.
    const expected = await snapshotTree(await writeBundle(join(work, `expected-${n++}`), V2));
    assert.deepEqual(await snapshotTree(join(dirs.root, 'versions', '1.1.0')), expected);
    assert.deepEqual(await snapshotTree(join(dirs.root, 'versions', '1.0.0')), v1Before);
    const top = (await readdir(dirs.root)).filter((name) => !LAYOUT_NAMES.has(name));
    assert.deepEqual(top, [], 'no release file was copied over the install root');
    assert.equal(out['layout'], 'versioned');

    // The human output says where it went; the entry point starts the new version, which confirms its trial.
    const launched = spawnSync(process.execPath, [LAUNCHER, dirs.root], { encoding: 'utf8' });
    assert.equal(launched.status, 0, launched.stderr);
    assert.equal(launched.stdout, 'app 1.1.0\n');
    assert.equal((await readInstallState(dirs.root))?.trial, null);
    const again = await run(args('update', dirs, [], '1.1.0'));
    assertExit(again, 0);
    assert.match(again.stdout, /no update: 1\.1\.0 is the newest/);
  });

  test('human output names the version directory and the trial', async () => {
    const dirs = await installedRoot();
    const r = await run(args('update', dirs));
    assertExit(r, 0, 'client update on a versioned root');
    assert.match(
      r.stdout,
      /^installed 1\.1\.0 into .*versions[/\\]1\.1\.0 \(versioned install, on trial until it confirms; patch, /m,
    );
  });

  test('refused, with nothing changed: --purge/--exclude, a --current-version that is not install.json’s, a damaged install.json', async () => {
    const dirs = await installedRoot();
    const initial = await snapshotTree(dirs.root);
    const first = served.server.requests.length;

    const purge = await run(args('update', dirs, ['--purge']));
    assertFailed(purge, 'INVALID_ARGUMENT', 'client update --purge on a versioned root');
    assert.match(purge.stderr, /--purge/);
    const exclude = await run(args('update', dirs, ['--exclude', 'logs', '--json']));
    assertExit(exclude, 1);
    assert.equal(exclude.json<{ error: { code: string } }>().error.code, 'INVALID_ARGUMENT');

    for (const command of ['check', 'update'] as const) {
      const other = await run(args(command, dirs, [], '0.9.0'));
      assertFailed(other, 'INVALID_ARGUMENT', `client ${command} --current-version 0.9.0`);
      assert.match(other.stderr, /install\.json/);
    }
    assert.equal(served.server.requests.length, first, 'refused before any request');
    assert.deepEqual(await snapshotTree(dirs.root), initial);

    await writeFile(join(dirs.root, 'install.json'), '{"format": 1, "current": ');
    const damaged = await snapshotTree(dirs.root);
    const broken = await run(args('update', dirs));
    assertFailed(broken, 'INSTALL_FAILED', 'client update with a damaged install.json');
    assert.deepEqual(await snapshotTree(dirs.root), damaged, 'nothing copied into the damaged root');
  });

  test('a versioned root whose install.json is missing is refused (INSTALL_FAILED), not updated in place', async () => {
    const dirs = await installedRoot();
    // The entry point ran once (launcher.log), then install.json was lost.
    const launched = spawnSync(process.execPath, [LAUNCHER, dirs.root], { encoding: 'utf8' });
    assert.equal(launched.status, 0, launched.stderr);
    await rename(join(dirs.root, 'install.json'), join(dirs.root, '..', 'install.json.lost'));
    const before = await snapshotTree(dirs.root);
    const r = await run(args('update', dirs));
    assertFailed(r, 'INSTALL_FAILED', 'client update on a versioned root without install.json');
    assert.match(r.stderr, /install\.json/);
    assert.deepEqual(await snapshotTree(dirs.root), before);
    await rm(join(dirs.root, '..', 'install.json.lost'));
  });
});
