/** `refresh` exit codes, and the release commands (add, list, remove, prune, platforms, refusals). */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { makeBundle, metadataSigned, tempDir, treeSnapshot } from './files.js';
import { assertExit, cli, runCli } from './run-cli.js';

async function initialised(): Promise<string> {
  const cwd = await tempDir();
  await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
  return cwd;
}

async function versions(cwd: string): Promise<Record<string, number>> {
  const repo = join(cwd, 'repository');
  const out: Record<string, number> = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    out[role] = (await metadataSigned(repo, `${role}.json`)).version;
  }
  return out;
}

interface RefreshJson {
  ok: boolean;
  refreshed: string[];
  skipped: { role: string; reason: string }[];
  result: { versions: Record<string, number> } | null;
}

describe('refresh', { timeout: 150_000 }, () => {
  test('right after init: nothing to do, exit 0', async () => {
    const cwd = await initialised();
    const r = await runCli(['refresh'], { cwd });
    assertExit(r, 0, 'refresh right after init (default: due when less than half the lifetime is left)');
    assert.match(r.stdout, /nothing is due for refresh/);
    assert.deepEqual(await versions(cwd), { root: 1, targets: 1, snapshot: 1, timestamp: 1 });
  });

  test('--within 0.5: nothing to do, exit 0; --within 2: timestamp and snapshot re-signed, exit 2', async () => {
    const cwd = await initialised();
    const quiet = await cli(['refresh', '--within', '0.5'], { cwd });
    assert.match(quiet.stdout, /nothing expires within 0\.5 day\(s\)/);
    assert.deepEqual(await versions(cwd), { root: 1, targets: 1, snapshot: 1, timestamp: 1 });
    const r = await runCli(['refresh', '--within', '2'], { cwd });
    assertExit(r, 2);
    assert.match(r.stdout, /refreshed: snapshot, timestamp/);
    assert.deepEqual(await versions(cwd), { root: 1, targets: 1, snapshot: 2, timestamp: 2 });
    const json = await runCli(['refresh', '--within', '2', '--json'], { cwd });
    assertExit(json, 2);
    const body = json.json<RefreshJson>();
    assert.equal(body.ok, true);
    assert.deepEqual(body.refreshed, ['snapshot', 'timestamp']);
    assert.deepEqual(body.skipped, []);
    assert.deepEqual(body.result?.versions, { snapshot: 3, timestamp: 3 });
    const quietJson = await cli(['refresh', '--within', '0.5', '--json'], { cwd });
    assert.deepEqual(quietJson.json<RefreshJson>(), { ok: true, refreshed: [], skipped: [], result: null });
    await cli(['verify'], { cwd });
  });

  test('--within 10 re-signs targets too; without its key: skipped, exit 1', async () => {
    const cwd = await initialised();
    const r = await runCli(['refresh', '--within', '10'], { cwd });
    assertExit(r, 2);
    assert.deepEqual(await versions(cwd), { root: 1, targets: 2, snapshot: 2, timestamp: 2 });
    // An online machine: public keys and the snapshot/timestamp private keys only.
    const online = join(cwd, 'online');
    await mkdir(online);
    for (const name of [
      'root.pub',
      'targets.pub',
      'snapshot',
      'snapshot.pub',
      'timestamp',
      'timestamp.pub',
    ]) {
      await copyFile(join(cwd, 'keystore', name), join(online, name));
    }
    const partial = await runCli(['--keys-dir', 'online', 'refresh', '--within', '10', '--json'], { cwd });
    assertExit(partial, 1);
    const body = partial.json<RefreshJson>();
    assert.equal(body.ok, false);
    assert.deepEqual(
      body.skipped.map((s) => s.role),
      ['targets'],
    );
    assert.deepEqual(body.refreshed, ['snapshot', 'timestamp']);
    assert.deepEqual(await versions(cwd), { root: 1, targets: 2, snapshot: 3, timestamp: 3 });
    await cli(['verify'], { cwd });
  });

  test('a bad --within: INVALID_ARGUMENT, exit 1', async () => {
    const cwd = await initialised();
    const r = await runCli(['--json', 'refresh', '--within', 'soon'], { cwd });
    assertExit(r, 1);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'INVALID_ARGUMENT');
  });
});

interface ReleaseRow {
  app: string;
  version: string;
  required: boolean;
  archive: { name: string } | null;
}

describe('release commands', { timeout: 180_000 }, () => {
  let cwd: string;
  let ws: string;
  const targetFiles = async () => (await readdir(join(cwd, 'repository', 'targets'))).sort();
  const listed = async (...extra: string[]) =>
    (await cli(['release', 'list', '--json', ...extra], { cwd }))
      .json<{ releases: ReleaseRow[] }>()
      .releases.map((r) => `${r.app} ${r.version}${r.required ? ' required' : ''} ${r.archive?.name}`);

  before(async () => {
    cwd = await initialised();
    ws = await tempDir('notsotuf-cli-bundles-');
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) await makeBundle(join(ws, v), v);
  });

  test('add, list, remove', async () => {
    await cli(['release', 'add', join(ws, '1.0.0'), '--version', '1.0.0'], { cwd });
    const meta = join(ws, 'meta.json');
    await writeFile(meta, '{"changes": ["from a file"]}');
    await cli(
      ['release', 'add', join(ws, '1.1.0'), '--version', '1.1.0', '--required', '--meta-file', meta],
      {
        cwd,
      },
    );
    assert.deepEqual(await listed(), [
      'demo_app 1.0.0 demo_app-1.0.0.tar.gz',
      'demo_app 1.1.0 required demo_app-1.1.0.tar.gz',
    ]);
    const human = await cli(['release', 'list'], { cwd });
    assert.match(human.stdout, /^demo_app 1\.1\.0 \(required\)/m);
    const r = await cli(['release', 'remove', '1.0.0'], { cwd });
    assert.match(r.stdout, /signed and written: targets v4/);
    assert.deepEqual(await listed(), ['demo_app 1.1.0 required demo_app-1.1.0.tar.gz']);
    // 1.1.0 keeps its archive and its patch (from 1.0.0: still useful to clients with 1.0.0 cached).
    const files = (await targetFiles()).sort();
    assert.equal(files.length, 2);
    assert.ok(
      files.some((f) => /^[0-9a-f]{64}\.demo_app-1\.1\.0\.tar\.gz$/.test(f)),
      files.join(),
    );
    assert.ok(
      files.some((f) => /^[0-9a-f]{64}\.demo_app-1\.1\.0\.patch$/.test(f)),
      files.join(),
    );
    await cli(['verify'], { cwd });
  });

  test('refusals: bad version, existing and lower versions, bad --meta; nothing written', async () => {
    const before = await treeSnapshot(cwd);
    // Exit 64 for bad usage (malformed --meta JSON, a --keep below 1), 1 for what the repository refuses.
    const cases: [string[], string, number][] = [
      [['release', 'add', join(ws, '1.2.0'), '--version', 'one.two'], 'VERSION_INVALID', 1],
      [['release', 'add', join(ws, '1.2.0'), '--version', '1.1.0'], 'RELEASE_EXISTS', 1],
      [['release', 'add', join(ws, '1.2.0'), '--version', '0.9'], 'VERSION_NOT_NEWER', 1],
      [
        ['release', 'add', join(ws, '1.2.0'), '--version', '1.2.0', '--meta', '{oops'],
        'INVALID_ARGUMENT',
        64,
      ],
      [['release', 'add', join(ws, 'missing'), '--version', '1.2.0'], 'BUNDLE_INVALID', 1],
      [['release', 'remove', '1.0.0'], 'RELEASE_NOT_FOUND', 1],
      [['release', 'remove', 'x.y'], 'VERSION_INVALID', 1],
      [['release', 'prune', '--keep', '0'], 'INVALID_ARGUMENT', 64],
    ];
    for (const [args, code, exit] of cases) {
      const r = await runCli(['--json', ...args], { cwd });
      assertExit(r, exit, args.join(' '));
      assert.equal(r.json<{ error: { code: string } }>().error.code, code, args.join(' '));
    }
    assert.deepEqual(await treeSnapshot(cwd), before);
  });

  test('a symlink escaping the bundle: BUNDLE_UNSAFE_LINK, no orphan files', async () => {
    const bundle = await makeBundle(join(ws, 'evil'), '1.2.0');
    await writeFile(join(ws, 'secret.txt'), 'not for publishing\n');
    await symlink('../secret.txt', join(bundle, 'escape'));
    const before = await treeSnapshot(cwd);
    const r = await runCli(['release', 'add', bundle, '--version', '1.2.0'], { cwd });
    assertExit(r, 1);
    assert.match(r.stderr, /error BUNDLE_UNSAFE_LINK: .*escape/);
    assert.deepEqual(await treeSnapshot(cwd), before);
    assert.equal((await targetFiles()).length, 2, '1.1.0 archive and patch only');
  });

  test('prune --keep 1 keeps the newest release', async () => {
    await cli(['release', 'add', join(ws, '1.2.0'), '--version', '1.2.0'], { cwd });
    const r = await cli(['release', 'prune', '--keep', '1'], { cwd });
    assert.match(r.stdout, /signed and written: targets/);
    assert.deepEqual(await listed(), ['demo_app 1.2.0 demo_app-1.2.0.tar.gz']);
    const files = (await targetFiles()).sort();
    assert.equal(files.length, 2, 'the kept release: archive and its patch');
    assert.ok(
      files.some((f) => /\.demo_app-1\.2\.0\.tar\.gz$/.test(f)),
      files.join(),
    );
    assert.ok(
      files.some((f) => /\.demo_app-1\.2\.0\.patch$/.test(f)),
      files.join(),
    );
    const again = await cli(['release', 'prune', '--keep', '1'], { cwd });
    assert.match(again.stdout, /nothing to prune/);
    await cli(['verify'], { cwd });
  });

  test('--platform linux-x64 publishes its own release chain', async () => {
    const r = await cli(
      ['release', 'add', join(ws, '1.0.0'), '--version', '1.0.0', '--platform', 'linux-x64'],
      {
        cwd,
      },
    );
    assert.match(r.stdout, /demo_app-linux-x64-1\.0\.0\.tar\.gz/);
    assert.deepEqual(await listed(), [
      'demo_app 1.2.0 demo_app-1.2.0.tar.gz',
      'demo_app-linux-x64 1.0.0 demo_app-linux-x64-1.0.0.tar.gz',
    ]);
    assert.deepEqual(await listed('--platform', 'linux-x64'), [
      'demo_app-linux-x64 1.0.0 demo_app-linux-x64-1.0.0.tar.gz',
    ]);
    assert.ok((await targetFiles()).some((f) => f.endsWith('.demo_app-linux-x64-1.0.0.tar.gz')));
    const bad = await runCli(
      ['--json', 'release', 'add', join(ws, '1.0.0'), '--version', '2.0.0', '--platform', 'linux'],
      {
        cwd,
      },
    );
    assertExit(bad, 1);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'PLATFORM_INVALID');
    await cli(['release', 'remove', '1.0.0', '--platform', 'linux-x64'], { cwd });
    assert.deepEqual(await listed('--platform', 'linux-x64'), []);
    await cli(['verify'], { cwd });
  });
});
