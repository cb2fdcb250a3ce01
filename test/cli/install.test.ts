/**
 * `notsotuf install`: the first install of an app in the versioned layout, as real processes against a repository
 * served on 127.0.0.1. The installed entry point is started as a real process and must run the installed version;
 * `notsotuf client update` must then update that root as a versioned one. Every refusal and failure must leave
 * nothing behind, and never touch a directory that was not empty.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readInstallState } from '../../src/install/index.js';
import { type PublishedRepo, servedRepo, versionedScriptApp } from '../helpers/client-fixtures.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTestRepo, makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';
import { assertExit, CLI_PATH, type CliResult, cliEnv, runCli } from './run-cli.js';

function assertFailed(r: CliResult, code: string, what: string): void {
  assertExit(r, 1, what);
  assert.match(r.stderr, new RegExp(`^error ${code}: `, 'm'), `${what}: stderr names ${code}\n${r.stderr}`);
  assert.match(r.stderr, /^\s*hint: \S/m, `${what}: a hint says what to do\n${r.stderr}`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Starts an installed entry point (a real process: the script, the launcher, the app). */
function start(entryPoint: string, args: readonly string[] = []) {
  return spawnSync(entryPoint, args, { encoding: 'utf8', timeout: 60_000 });
}

interface InstallJson {
  ok: boolean;
  installed: boolean;
  app: string;
  version: string;
  installRoot: string;
  versionDir: string;
  entry: string;
  entryPoint: string;
  trustedRoot: string;
  cacheDir: string;
  archive: { name: string; length: number };
  downloadedBytes: number;
  updateCommand: string[];
}

describe('notsotuf install (real processes, HTTP on 127.0.0.1)', { timeout: 300_000 }, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-cli-install-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0') },
      { version: '1.2.0rc1', files: versionedScriptApp('1.2.0rc1') },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  const fresh = () => join(work, `case-${n++}`);
  const run = (argv: readonly string[]) => runCli(argv, { cwd: work });

  function args(root: string, extra: readonly string[] = []): string[] {
    const url = served.server.url;
    return [
      'install',
      '--app',
      'app',
      '--install-root',
      root,
      '--entry',
      'app.mjs',
      '--metadata-url',
      `${url}/metadata/`,
      '--targets-url',
      `${url}/targets/`,
      '--trusted-root',
      served.trustedRoot,
      ...extra,
    ];
  }

  test('--version 1.0.0 --json: installs 1.0.0, the entry point runs it, and client update takes the root to 1.1.0 by patch', async () => {
    const root = join(fresh(), 'nested', 'root');
    const r = await run(
      args(root, ['--version', '1.0.0', '--entry-point', 'my-app', '--max-launches', '2', '--json']),
    );
    assertExit(r, 0, 'install --json');
    assert.equal(r.stderr, '', 'no progress lines with --json');
    const out = r.json<InstallJson>();
    assert.deepEqual(Object.keys(out).sort(), [
      'app',
      'archive',
      'cacheDir',
      'downloadedBytes',
      'entry',
      'entryPoint',
      'installRoot',
      'installed',
      'ok',
      'trustedRoot',
      'updateCommand',
      'version',
      'versionDir',
    ]);
    assert.equal(out.ok, true);
    assert.equal(out.version, '1.0.0');
    assert.equal(out.installRoot, root);
    assert.equal(out.versionDir, join(root, 'versions', '1.0.0'));
    assert.equal(out.entryPoint, join(root, 'my-app'));
    assert.equal(out.cacheDir, join(root, 'cache'));
    assert.equal(out.trustedRoot, join(root, 'root.json'));
    assert.equal(out.archive.name, 'app-1.0.0.tar.gz');
    assert.equal(out.downloadedBytes, out.archive.length);
    assert.equal(out.updateCommand[0], 'notsotuf');

    // The layout: install.json selects 1.0.0, the trusted root is the one given, the tar is cached for patches.
    const state = await readInstallState(root);
    assert.equal(state?.current, '1.0.0');
    assert.equal(state?.entry, 'app.mjs');
    assert.equal(state?.previous, null);
    assert.deepEqual(await readFile(out.trustedRoot), await readFile(served.trustedRoot));
    // The verified tar is kept (not the archive): the first update patches from it without decompressing.
    assert.ok(await exists(join(root, 'cache', 'targets', 'app-1.0.0.tar')));
    assert.ok(!(await exists(join(root, 'cache', 'targets', 'app-1.0.0.tar.gz'))));
    assert.match(await readFile(out.entryPoint, 'utf8'), /'--max-launches' '2'/);

    const first = start(out.entryPoint, ['--exit=0']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, 'app 1.0.0\n');
    assert.equal((await readInstallState(root))?.trial, null, 'the app confirmed its trial');

    // The printed update command works as it is, and updates the versioned root (by patch: the cache is right).
    const update = await run([...out.updateCommand.slice(1), '--json']);
    assertExit(update, 0, 'the printed client update');
    const updated = update.json<Record<string, unknown>>();
    assert.equal(updated['version'], '1.1.0');
    assert.equal(updated['layout'], 'versioned');
    assert.equal(updated['method'], 'patch');
    assert.equal((await readInstallState(root))?.previous, '1.0.0');
    const second = start(out.entryPoint);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, 'app 1.1.0\n');
  });

  test('human output, the newest final release, into an existing empty directory; progress on stderr', async () => {
    const root = fresh();
    await mkdir(root);
    const r = await run(args(root));
    assertExit(r, 0, 'install');
    const entryPoint = join(root, 'app');
    assert.match(r.stdout, /^installed app 1\.1\.0 into .*versions[/\\]1\.1\.0 \(the first version/m);
    assert.ok(r.stdout.includes(`entry point: ${entryPoint}`), r.stdout);
    assert.match(r.stdout, /^start the app:\n {2}\S+[/\\]app$/m);
    assert.match(r.stdout, /^ {2}notsotuf client update --app app --install-dir /m);
    assert.doesNotMatch(
      r.stdout,
      /--current-version/,
      'the root says which version runs, also after a rollback',
    );
    for (let i = 1; i <= 6; i++) assert.match(r.stderr, new RegExp(`^install step ${i}/6: `, 'm'));
    assert.match(r.stderr, /^verifying app-1\.1\.0\.tar\.gz$/m);
    const started = start(entryPoint, ['--exit=0']);
    assert.equal(started.stdout, 'app 1.1.0\n', started.stderr);
  });

  test('--channel rc installs the newest pre-release', async () => {
    const root = fresh();
    const r = await run(args(root, ['--channel', 'rc', '--json']));
    assertExit(r, 0);
    assert.equal(r.json<InstallJson>().version, '1.2.0rc1');
    assert.deepEqual(r.json<InstallJson>().updateCommand.slice(-2), ['--channel', 'rc']);
  });

  test('refused with nothing touched: a non-empty directory, and a versioned root (hint: client update)', async () => {
    const foreign = fresh();
    await mkdir(join(foreign, 'docs'), { recursive: true });
    await writeFile(join(foreign, 'notes.txt'), 'mine\n');
    const before = await snapshotTree(foreign);
    const requests = served.server.requests.length;
    const r = await run(args(foreign));
    assertFailed(r, 'INSTALL_ROOT_NOT_EMPTY', 'install into a non-empty directory');
    assert.match(r.stderr, /notes\.txt/);
    assert.deepEqual(await snapshotTree(foreign), before);
    assert.equal(served.server.requests.length, requests, 'refused before any request');

    const root = fresh();
    assertExit(await run(args(root, ['--version', '1.0.0'])), 0);
    const installed = await snapshotTree(root);
    const afterInstall = served.server.requests.length;
    const again = await run(args(root, ['--json']));
    assertExit(again, 1);
    const error = again.json<{ ok: boolean; error: { code: string; hint: string } }>().error;
    assert.equal(error.code, 'ALREADY_INSTALLED');
    assert.match(error.hint, /notsotuf client update --install-dir .* --current-version 1\.0\.0/);
    assert.deepEqual(await snapshotTree(root), installed);
    assert.equal(served.server.requests.length, afterInstall, 'refused before any request');
  });

  test('failures leave nothing behind: unknown app, unknown version, wrong trusted root, a release without the entry', async () => {
    const otherRepo = await createTestRepo(join(work, 'other-publisher'));
    const wrongRoot = join(work, 'other-root.json');
    await copyFile(join(otherRepo.metadataDir, '1.root.json'), wrongRoot);
    const cases: [string, string[], string][] = [
      ['an unknown app', ['--app', 'nope'], 'APP_NOT_FOUND'],
      ['an unknown version', ['--version', '9.9.9'], 'RELEASE_NOT_FOUND'],
      ['a wrong trusted root', ['--trusted-root', wrongRoot], 'METADATA_SIGNATURE_INVALID'],
      ['a release without the entry', ['--entry', 'missing.mjs'], 'INSTALL_FAILED'],
    ];
    for (const [what, extra, code] of cases) {
      const parent = fresh();
      const root = join(parent, 'root');
      const cacheDir = join(parent, 'elsewhere', 'cache');
      const r = await run(args(root, [...extra, '--cache-dir', cacheDir]));
      assertFailed(r, code, what);
      assert.deepEqual(await readdir(parent).catch(() => []), [], `${what}: nothing left in ${parent}`);

      // An empty directory that existed stays, empty.
      const empty = fresh();
      await mkdir(empty);
      assertFailed(await run(args(empty, extra)), code, `${what} (existing empty root)`);
      assert.deepEqual(await readdir(empty), [], `${what}: the existing root is empty again`);
    }
  });

  test('bad flags exit 64 before anything is made', async () => {
    const cases: [string, string[]][] = [
      ['an unknown channel', ['--channel', 'nightly']],
      ['--max-launches 0', ['--max-launches', '0']],
      ['--confirm-within x', ['--confirm-within', 'x']],
      ['an entry outside the release', ['--entry', '../x.mjs']],
      ['a bad version', ['--version', 'not a version']],
      ['a bad entry point name', ['--entry-point', 'my app']],
      ['a bad header', ['--header', 'no-colon']],
    ];
    for (const [what, extra] of cases) {
      const root = fresh();
      const r = await run(args(root, extra));
      assertExit(r, 64, what);
      assert.match(r.stderr, /^error [A-Z_]+: /m, `${what}: a coded error\n${r.stderr}`);
      assert.equal(await exists(root), false, `${what}: no root made`);
    }
    const missing = await run(['install', '--app', 'app', '--entry', 'app.mjs']);
    assertExit(missing, 64, 'without --install-root');
    assert.match(missing.stderr, /required option '--install-root <dir>' not specified/);
  });

  describe('against a misbehaving server', () => {
    let proxy: FaultProxy;
    before(async () => {
      proxy = await startFaultProxy(served.server.url, [
        {
          match: (p) => p.endsWith('app-1.0.0.tar.gz'),
          fault: { kind: 'replace', body: Buffer.alloc(64, 7) },
          times: Infinity,
        },
        {
          match: (p) => p.endsWith('app-1.1.0.tar.gz'),
          fault: { kind: 'stall-after', bytes: 100 },
          times: Infinity,
        },
      ]);
    });
    after(() => proxy?.close());

    function proxied(root: string, extra: readonly string[]): string[] {
      const argv = args(root, extra);
      argv[argv.indexOf('--metadata-url') + 1] = `${proxy.url}/metadata/`;
      argv[argv.indexOf('--targets-url') + 1] = `${proxy.url}/targets/`;
      return argv;
    }

    test('a tampered archive fails verification and nothing is left', async () => {
      const parent = fresh();
      const r = await run(proxied(join(parent, 'root'), ['--version', '1.0.0']));
      assertFailed(r, 'TARGET_VERIFY_FAILED', 'install of a tampered archive');
      assert.deepEqual(await readdir(parent).catch(() => []), []);
    });

    test('Ctrl+C during the download aborts (exit 1, ABORTED) and removes the root', async () => {
      const parent = fresh();
      const child = spawn(process.execPath, [CLI_PATH, ...proxied(join(parent, 'root'), [])], {
        cwd: work,
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString('utf8');
        if (/^install step 3\/6/m.test(stderr)) setTimeout(() => child.kill('SIGINT'), 300);
      });
      const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
      assert.equal(code, 1, stderr);
      assert.match(stderr, /^error ABORTED: /m);
      assert.deepEqual(await readdir(parent).catch(() => []), []);
    });
  });
});
