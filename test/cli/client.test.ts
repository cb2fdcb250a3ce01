/**
 * `notsotuf client check|update` as real processes against a repository made by the real publisher and served on
 * 127.0.0.1: the plan, installs by patch and by full archive, JSON output, usage errors, extra headers on the
 * wire, and failures (bad trusted root, server down, disk write errors under a file-size limit) that must exit 1
 * with a specific error code and leave the installed app untouched.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  appFiles,
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { createTestRepo, makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';
import { assertExit, type CliResult, runCli } from './run-cli.js';

const NEW_FILES = appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' });

interface Dirs {
  readonly installDir: string;
  readonly cacheDir: string;
}

interface CheckJson {
  ok: true;
  update: null | {
    version: string;
    method: { kind: 'patch' | 'full'; reason?: string };
    downloadBytes: number;
    archiveBytes: number;
  };
}

interface UpdateJson {
  ok: true;
  updated: boolean;
  version?: string;
  outcome?: string;
  method?: 'patch' | 'full';
  fellBack?: boolean;
  downloadedBytes?: number;
}

interface ErrorJson {
  ok: false;
  error: { code: string; message: string; hint?: string };
}

/** A proxy in front of `upstream` that records the headers of every request. */
async function startHeaderRecorder(upstream: string) {
  const seen: { path: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '/', headers: req.headers });
    const { host: _host, ...headers } = req.headers;
    const out = request(`${upstream}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Asserts a failed run: exit 1, `error CODE:` on stderr. */
function assertFailed(r: CliResult, code: string, what: string): void {
  assertExit(r, 1, what);
  assert.match(r.stderr, new RegExp(`^error ${code}: `, 'm'), `${what}: stderr names ${code}`);
}

describe('notsotuf client check|update (real processes, HTTP on 127.0.0.1)', { timeout: 240_000 }, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-cli-client-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: NEW_FILES },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  /** A fresh install of app 1.0.0 from `repo`, its archive cached as the base of a patch. */
  async function installed(repo: PublishedRepo = served): Promise<Dirs> {
    const dir = join(work, `case-${n++}`);
    const dirs = { installDir: join(dir, 'app'), cacheDir: join(dir, 'cache') };
    const name = 'app-1.0.0.tar.gz';
    await installArchive(await publishedArchive(repo.repo, name), name, dirs.installDir, dirs.cacheDir);
    return dirs;
  }

  function args(
    command: 'check' | 'update',
    dirs: Dirs,
    extra: readonly string[] = [],
    o: { repo?: PublishedRepo; url?: string; version?: string } = {},
  ): string[] {
    const url = o.url ?? (o.repo ?? served).server.url;
    return [
      'client',
      command,
      '--app',
      'app',
      '--current-version',
      o.version ?? '1.0.0',
      '--install-dir',
      dirs.installDir,
      '--cache-dir',
      dirs.cacheDir,
      '--metadata-url',
      `${url}/metadata/`,
      '--targets-url',
      `${url}/targets/`,
      '--trusted-root',
      (o.repo ?? served).trustedRoot,
      ...extra,
    ];
  }

  const run = (argv: readonly string[], wrapper?: readonly string[]) =>
    runCli(argv, { cwd: work, ...(wrapper ? { wrapper } : {}) });

  async function expectedTree(version: string, files: Record<string, string | Buffer>) {
    return snapshotTree(await writeBundle(join(work, `expected-${version}-${n++}`), files));
  }

  test('check: prints the plan and exits 0, with or without an update; --json has the plan', async () => {
    const dirs = await installed();
    const initial = await snapshotTree(dirs.installDir);
    const human = await run(args('check', dirs));
    assertExit(human, 0, 'client check');
    assert.match(human.stdout, /update available: 1\.0\.0 → 1\.1\.0/);
    assert.match(human.stdout, /via 1 patch\(es\): app-1\.1\.0\.patch/);

    const json = await run(args('check', dirs, ['--json']));
    assertExit(json, 0, 'client check --json');
    const { update } = json.json<CheckJson>();
    assert.ok(update);
    assert.equal(update.version, '1.1.0');
    assert.equal(update.method.kind, 'patch');
    const patch = await publishedArchive(served.repo, 'app-1.1.0.patch');
    assert.equal(update.downloadBytes, (await stat(patch)).size);
    assert.ok(update.downloadBytes < update.archiveBytes);

    const none = await run(args('check', dirs, [], { version: '1.1.0' }));
    assertExit(none, 0, 'client check on the newest version');
    assert.match(none.stdout, /no update: 1\.1\.0 is the newest in channel final/);
    const noneJson = await run(args('check', dirs, ['--json'], { version: '1.1.0' }));
    assertExit(noneJson, 0);
    assert.deepEqual(noneJson.json(), { ok: true, update: null, withheld: [] });
    assert.deepEqual(await snapshotTree(dirs.installDir), initial, 'check never touches the install dir');
  });

  test('update: installs 1.1.0 by patch, --json reports it; updating again from 1.1.0 finds nothing', async () => {
    const dirs = await installed();
    const plan = (await run(args('check', dirs, ['--json']))).json<CheckJson>().update;
    const r = await run(args('update', dirs, ['--json']));
    assertExit(r, 0, 'client update --json');
    const out = r.json<UpdateJson>();
    assert.equal(out.ok, true);
    assert.equal(out.updated, true);
    assert.equal(out.version, '1.1.0');
    assert.equal(out.outcome, 'installed');
    assert.equal(out.method, 'patch');
    assert.equal(out.fellBack, false);
    assert.equal(out.downloadedBytes, plan?.downloadBytes);
    assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    assert.deepEqual(await snapshotTree(dirs.installDir), await expectedTree('1.1.0', NEW_FILES));

    const installedTree = await snapshotTree(dirs.installDir);
    const again = await run(args('update', dirs, ['--json'], { version: '1.1.0' }));
    assertExit(again, 0, 'a second client update');
    assert.deepEqual(again.json(), { ok: true, updated: false });
    const human = await run(args('update', dirs, [], { version: '1.1.0' }));
    assertExit(human, 0);
    assert.match(human.stdout, /no update: 1\.1\.0 is the newest in channel final/);
    assert.deepEqual(await snapshotTree(dirs.installDir), installedTree);
  });

  test('--no-patch: the plan and the update use the full archive', async () => {
    const dirs = await installed();
    const plan = (await run(args('check', dirs, ['--json', '--no-patch']))).json<CheckJson>().update;
    assert.ok(plan);
    assert.deepEqual(
      [plan.method.kind, plan.method.reason, plan.downloadBytes],
      ['full', 'patches-disabled', plan.archiveBytes],
    );
    const first = served.server.requests.length;
    const r = await run(args('update', dirs, ['--no-patch']));
    assertExit(r, 0, 'client update --no-patch');
    assert.match(r.stdout, /^installed 1\.1\.0 into .+ \(full, /m);
    const targets = served.server.requests.slice(first).filter((p) => p.startsWith('/targets/'));
    assert.equal(targets.length, 1, `target requests: ${targets.join(', ')}`);
    assert.match(targets[0]!, /app-1\.1\.0\.tar\.gz$/);
    assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  test('usage: an unknown channel, a bad --header or --stall-timeout, a missing option: exit 64 with a hint, no request', async () => {
    const dirs = await installed();
    const first = served.server.requests.length;
    const usage = (r: CliResult, what: string) => {
      assertExit(r, 64, what);
      assert.match(r.stderr, /^error INVALID_ARGUMENT: /m, what);
    };
    const r = await run(args('update', dirs, ['--channel', 'nonsense']));
    usage(r, 'client update --channel nonsense');
    assert.match(r.stderr, /Unknown channel "nonsense"/);
    assert.match(r.stderr, /hint: Use one of: final, rc, beta, alpha\./);
    const json = await run(args('check', dirs, ['--channel', 'nonsense', '--json']));
    assertExit(json, 64);
    const { error } = json.json<ErrorJson>();
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.hint ?? '', /final, rc, beta, alpha/);
    usage(await run(args('check', dirs, ['--header', 'NoColon'])), '--header NoColon');
    usage(await run(args('check', dirs, ['--stall-timeout', 'abc'])), '--stall-timeout abc');
    // Only a versioned install root says which version runs; an in-place install needs --current-version.
    const withVersion = args('check', dirs);
    const at = withVersion.indexOf('--current-version');
    const noVersion = await run([...withVersion.slice(0, at), ...withVersion.slice(at + 2)]);
    usage(noVersion, 'client check of an in-place install without --current-version');
    assert.match(noVersion.stderr, /--current-version is required/);
    assert.equal(served.server.requests.length, first, 'nothing was requested');

    const all = args('check', dirs);
    const noRoot = await run(all.slice(0, all.indexOf('--trusted-root')));
    assertExit(noRoot, 64, 'client check without --trusted-root');
    assert.match(noRoot.stderr, /required option '--trusted-root <file>' not specified/);
    const bare = await run(['client', 'update', '--app', 'app']);
    assertExit(bare, 64, 'client update with only --app');
    assert.match(bare.stderr, /required option '--[a-z-]+ <[a-z]+>' not specified/);
  });

  test('--header: every request, metadata and targets, carries the extra headers', async () => {
    const dirs = await installed();
    const proxy = await startHeaderRecorder(served.server.url);
    try {
      const extra = ['--header', 'Authorization: Bearer x', '--header', 'X-Notsotuf-Test: 1'];
      assertExit(await run(args('update', dirs, extra, { url: proxy.url })), 0, 'client update --header');
    } finally {
      await proxy.close();
    }
    const paths = proxy.seen.map((s) => s.path);
    assert.ok(paths.some((p) => p.startsWith('/metadata/')) && paths.some((p) => p.startsWith('/targets/')));
    for (const { path, headers } of proxy.seen) {
      assert.equal(headers['authorization'], 'Bearer x', `Authorization on ${path}`);
      assert.equal(headers['x-notsotuf-test'], '1', `X-Notsotuf-Test on ${path}`);
    }
    assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  test('a trusted root that is not a root.json: exit 1, INVALID_ARGUMENT, nothing touched', async () => {
    const dirs = await installed();
    const initial = await snapshotTree(dirs.installDir);
    const argv = args('update', dirs);
    argv[argv.indexOf('--trusted-root') + 1] = join(served.repo.metadataDir, 'targets.json');
    assertFailed(await run(argv), 'INVALID_ARGUMENT', 'client update with targets.json as trusted root');
    const json = await run([...argv, '--json']);
    assertExit(json, 1);
    assert.equal(json.json<ErrorJson>().ok, false);
    assert.equal(json.json<ErrorJson>().error.code, 'INVALID_ARGUMENT');
    assert.deepEqual(await snapshotTree(dirs.installDir), initial);
  });

  test('a server that is down: exit 1, DOWNLOAD_FAILED, nothing touched', async () => {
    const dirs = await installed();
    const initial = await snapshotTree(dirs.installDir);
    const gone = createServer();
    await new Promise<void>((ok) => gone.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise<void>((ok) => gone.close(() => ok()));
    const r = await run(args('update', dirs, ['--json'], { url }));
    assertFailed(r, 'DOWNLOAD_FAILED', 'client update against a closed port');
    assert.equal(r.json<ErrorJson>().error.code, 'DOWNLOAD_FAILED');
    assert.deepEqual(await snapshotTree(dirs.installDir), initial);
  });

  test('a wrong app name: exit 1, APP_NOT_FOUND naming the apps the repository has', async () => {
    const dirs = await installed();
    const argv = args('check', dirs, ['--json']);
    argv[argv.indexOf('--app') + 1] = 'wrong_app';
    const r = await run(argv);
    assertFailed(r, 'APP_NOT_FOUND', 'client check --app wrong_app');
    const { error } = r.json<ErrorJson>();
    assert.match(error.message, /no releases of the app "wrong_app"; it has releases of: app\./);
    assert.match(error.hint ?? '', /"app"/);
  });

  test('a metadata URL that is wrong: DOWNLOAD_FAILED naming the URL, with a hint about the URL', async () => {
    const dirs = await installed();
    const argv = args('check', dirs);
    argv[argv.indexOf('--metadata-url') + 1] = `${served.server.url}/nope/`;
    const r = await run(argv);
    assertFailed(r, 'DOWNLOAD_FAILED', 'client check with a wrong metadata URL');
    assert.match(r.stderr, /nope\/timestamp\.json is not there \(HTTP 404\)/);
    assert.match(r.stderr, /hint: Check the metadata URL/);
  });

  test('the root.json of another repository: METADATA_SIGNATURE_INVALID, hint: the wrong root.json is bundled', async () => {
    const dirs = await installed();
    const other = await createTestRepo(join(work, `other-repo-${n++}`));
    const argv = args('check', dirs);
    argv[argv.indexOf('--trusted-root') + 1] = join(other.metadataDir, '1.root.json');
    const r = await run(argv);
    assertFailed(r, 'METADATA_SIGNATURE_INVALID', 'client check with another repository’s root');
    assert.match(r.stderr, /hint: .*most likely bundles the root\.json of another repository/);
  });

  test('an install dir that does not exist: INSTALL_FAILED before any target is downloaded', async () => {
    const dirs = await installed();
    const argv = args('update', dirs);
    argv[argv.indexOf('--install-dir') + 1] = join(work, 'no-such-dir');
    const first = served.server.requests.length;
    const r = await run(argv);
    assertFailed(r, 'INSTALL_FAILED', 'client update into a missing install dir');
    assert.match(r.stderr, /no-such-dir does not exist; nothing was downloaded/);
    const requested = served.server.requests.slice(first);
    assert.ok(
      requested.some((p) => p.startsWith('/metadata/')),
      'the check ran',
    );
    assert.deepEqual(
      requested.filter((p) => p.startsWith('/targets/')),
      [],
      'no target was downloaded',
    );
  });

  // `ulimit -f` counts 512-byte blocks in sh (dash, and bash as sh); Node ignores SIGXFSZ, so a write past the
  // limit fails with EFBIG. Even root cannot exceed RLIMIT_FSIZE.
  const limited = (blocks: number) => ['sh', '-c', `ulimit -f ${blocks}; trap "" XFSZ; exec "$0" "$@"`];
  const posixOnly = { skip: process.platform === 'win32' && 'needs sh and ulimit' };

  test(
    'disk write error decompressing an archive (cached base or download): exit 1, IO_ERROR, app untouched',
    posixOnly,
    async () => {
      const dirs = await installed();
      const initial = await snapshotTree(dirs.installDir);
      // 8 blocks (4 KiB, or 8 KiB at 1 KiB blocks): every metadata file and the ~3 KB .tar.gz fit, the ~70 KB tar
      // does not.
      const gz = await stat(await publishedArchive(served.repo, 'app-1.1.0.tar.gz'));
      assert.ok(gz.size < 4096, `the archive (${gz.size} bytes) fits under the limit`);
      for (const extra of [[], ['--no-patch']]) {
        const r = await run(args('update', dirs, ['--json', ...extra]), limited(8));
        assertFailed(r, 'IO_ERROR', `client update ${extra.join(' ')} under ulimit -f 8`);
        const { error } = r.json<ErrorJson>();
        assert.equal(error.code, 'IO_ERROR', `not a verification failure: ${error.message}`);
        assert.deepEqual(await snapshotTree(dirs.installDir), initial);
      }
      // With room on the disk, the same cache updates fine.
      assertExit(await run(args('update', dirs)), 0, 'client update without the limit');
      assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    },
  );

  for (const patchCodec of ['notsotuf', 'bsdiff4']) {
    test(
      `disk write error applying a ${patchCodec} patch: exit 1, IO_ERROR, the patch is not blamed`,
      posixOnly,
      async () => {
        // 1.0.0's tar (~70 KB) fits under 200 blocks (100 KiB, or 200 KiB at 1 KiB blocks); 1.1.0's (~330 KB)
        // does not, so writing the patched tar fails.
        const big = { ...NEW_FILES, 'lib/big.txt': 'compressible line of text\n'.repeat(10_000) };
        const repo = await servedRepo(join(work, `big-repo-${patchCodec}`), [
          { version: '1.0.0', files: appFiles('1.0.0') },
          { version: '1.1.0', files: big, patchCodec },
        ]);
        try {
          const dirs = await installed(repo);
          const initial = await snapshotTree(dirs.installDir);
          const plan = (await run(args('check', dirs, ['--json'], { repo }))).json<CheckJson>().update;
          assert.equal(plan?.method.kind, 'patch');
          const r = await run(args('update', dirs, ['--json'], { repo }), limited(200));
          assertFailed(r, 'IO_ERROR', 'client update (patch) under ulimit -f 200');
          assert.equal(r.json<ErrorJson>().error.code, 'IO_ERROR');
          assert.deepEqual(await snapshotTree(dirs.installDir), initial);
          // A write failure says nothing about the patch: it must not be marked as failed for later runs.
          const markers = (await readdir(join(dirs.cacheDir, 'targets'))).filter((f) =>
            f.endsWith('.failed'),
          );
          assert.deepEqual(markers, []);
          const retry = await run(args('check', dirs, ['--json'], { repo }));
          assert.equal(retry.json<CheckJson>().update?.method.kind, 'patch');
          const done = await run(args('update', dirs, ['--json'], { repo }));
          assertExit(done, 0, 'client update without the limit');
          assert.equal(done.json<UpdateJson>().method, 'patch');
          assert.deepEqual(await snapshotTree(dirs.installDir), await expectedTree('1.1.0-big', big));
        } finally {
          await repo.close();
        }
      },
    );
  }
});
