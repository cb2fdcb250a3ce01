/** Error output (--json, --debug) and the options of `init`. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeBundle, metadataSigned, readJson, tempDir, treeSnapshot } from './files.js';
import { assertExit, cli, runCli } from './run-cli.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface JsonError {
  ok: boolean;
  error: { name: string; code: string; message: string; hint?: string };
}

async function initialised(...extra: string[]): Promise<string> {
  const cwd = await tempDir();
  await cli(['init', '--app', 'demo_app', '--unencrypted', ...extra], { cwd });
  return cwd;
}

describe('errors', { timeout: 150_000 }, () => {
  test('--json: a failing command prints {ok:false, error:{code}} on stdout and exits 1', async () => {
    const cwd = await initialised();
    const r = await runCli(['--json', 'release', 'remove', '9.9.9'], { cwd });
    assertExit(r, 1);
    const body = r.json<JsonError>();
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'RELEASE_NOT_FOUND');
    assert.equal(body.error.name, 'NotsotufError');
    assert.match(body.error.message, /9\.9\.9/);
    assert.ok(body.error.hint, 'no hint in the JSON error');
    assert.match(r.stderr, /^error RELEASE_NOT_FOUND: /m);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'stack trace printed without --debug');
  });

  test('--json after the command name works too', async () => {
    const cwd = await tempDir();
    const r = await runCli(['status', '--json'], { cwd });
    assertExit(r, 1);
    assert.equal(r.json<JsonError>().error.code, 'CONFIG_NOT_FOUND');
  });

  test('without --json the error goes to stderr only, with a hint and no stack', async () => {
    const cwd = await tempDir();
    const r = await runCli(['verify'], { cwd });
    assertExit(r, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error CONFIG_NOT_FOUND: /);
    assert.match(r.stderr, /\n {2}hint: .*notsotuf init/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  test('--debug prints the stack trace', async () => {
    const cwd = await initialised();
    const r = await runCli(['--json', '--debug', 'release', 'remove', '9.9.9'], { cwd });
    assertExit(r, 1);
    assert.equal(r.json<JsonError>().error.code, 'RELEASE_NOT_FOUND');
    assert.match(r.stderr, /NotsotufError: demo_app has no release 9\.9\.9/);
    assert.match(r.stderr, /^\s+at .*release-ops\.js/m);
  });
});

describe('init options', { timeout: 150_000 }, () => {
  test('--no-consistent-snapshot: unversioned metadata and plain target names', async () => {
    const cwd = await initialised('--no-consistent-snapshot');
    const repo = join(cwd, 'repository');
    assert.deepEqual((await readdir(join(repo, 'metadata'))).sort(), [
      '1.root.json',
      'root.json',
      'snapshot.json',
      'targets.json',
      'timestamp.json',
    ]);
    assert.equal((await metadataSigned(repo, 'root.json'))['consistent_snapshot'], false);
    assert.equal((await readJson(join(cwd, 'notsotuf.json')))['consistent_snapshot'], false);
    await cli(['release', 'add', await makeBundle(join(cwd, 'b'), '1.0.0'), '--version', '1.0.0'], { cwd });
    assert.deepEqual(await readdir(join(repo, 'targets')), ['demo_app-1.0.0.tar.gz']);
    assert.ok(
      !(await readdir(join(repo, 'metadata'))).some((n) => /^\d+\.(targets|snapshot)\.json$/.test(n)),
    );
    const status = (await cli(['status', '--json'], { cwd })).json<{ consistentSnapshot: boolean }>();
    assert.equal(status.consistentSnapshot, false);
    await cli(['verify'], { cwd });
  });

  test('consistent snapshots by default: versioned metadata and hash-prefixed targets', async () => {
    const cwd = await initialised();
    const repo = join(cwd, 'repository');
    assert.equal((await metadataSigned(repo, 'root.json'))['consistent_snapshot'], true);
    await cli(['release', 'add', await makeBundle(join(cwd, 'b'), '1.0.0'), '--version', '1.0.0'], { cwd });
    const [target, ...rest] = await readdir(join(repo, 'targets'));
    assert.deepEqual(rest, []);
    assert.match(target ?? '', /^[0-9a-f]{64}\.demo_app-1\.0\.0\.tar\.gz$/);
    const names = await readdir(join(repo, 'metadata'));
    for (const n of [
      '2.targets.json',
      '2.snapshot.json',
      'targets.json',
      'snapshot.json',
      'timestamp.json',
    ]) {
      assert.ok(names.includes(n), `no ${n}`);
    }
  });

  test('--threshold root=2 creates root1 and root2; --expires timestamp=3', async () => {
    const started = Date.now();
    const cwd = await initialised('--threshold', 'root=2', '--expires', 'timestamp=3');
    const keys = (await readdir(join(cwd, 'keystore'))).sort();
    assert.deepEqual(keys, [
      'root1',
      'root1.pub',
      'root2',
      'root2.pub',
      'snapshot',
      'snapshot.pub',
      'targets',
      'targets.pub',
      'timestamp',
      'timestamp.pub',
    ]);
    const root = await metadataSigned(join(cwd, 'repository'), 'root.json');
    const rootRole = (root['roles'] as Record<string, { keyids: string[]; threshold: number }>)['root'];
    assert.equal(rootRole?.threshold, 2);
    assert.equal(rootRole?.keyids.length, 2);
    const config = await readJson<{ key_map: Record<string, string[]>; thresholds: Record<string, number> }>(
      join(cwd, 'notsotuf.json'),
    );
    assert.deepEqual(config.key_map['root'], ['root1', 'root2']);
    assert.equal(config.thresholds['root'], 2);
    const ts = await metadataSigned(join(cwd, 'repository'), 'timestamp.json');
    const days = (Date.parse(ts.expires) - started) / DAY_MS;
    assert.ok(days > 2.99 && days < 3.01, `timestamp expires in ${days} days, not 3`);
    const snapshot = await metadataSigned(join(cwd, 'repository'), 'snapshot.json');
    const snapshotDays = (Date.parse(snapshot.expires) - started) / DAY_MS;
    assert.ok(snapshotDays > 6.99 && snapshotDays < 7.01, 'snapshot keeps the default 7 days');
    const status = (await cli(['status', '--json'], { cwd })).json<{
      roles: { role: string; validSignatures: number; threshold: number }[];
    }>();
    const rootStatus = status.roles.find((r) => r.role === 'root');
    assert.deepEqual([rootStatus?.validSignatures, rootStatus?.threshold], [2, 2]);
    await cli(['verify'], { cwd });
  });

  test('--keys-dir puts the keys there; --config writes that file', async () => {
    const cwd = await tempDir();
    await cli(
      ['--keys-dir', 'offline', '--config', 'other.json', 'init', '--app', 'demo_app', '--unencrypted'],
      {
        cwd,
      },
    );
    const entries = (await readdir(cwd)).sort();
    assert.deepEqual(entries, ['offline', 'other.json', 'repository']);
    assert.ok((await readdir(join(cwd, 'offline'))).includes('targets.pub'));
    assert.equal((await readJson(join(cwd, 'other.json')))['keys_dir'], 'offline');
    // Without --config the CLI finds no config here; with it, everything works.
    assertExit(await runCli(['status'], { cwd }), 1);
    const list = (await cli(['--config', 'other.json', 'keys', 'list', '--json'], { cwd })).json<{
      keys: { name: string; dir: string; roles: string[] }[];
    }>();
    assert.deepEqual(
      list.keys.map((k) => [k.name, k.dir, k.roles.join()]),
      ['root', 'snapshot', 'targets', 'timestamp'].map((n) => [n, join(cwd, 'offline'), n]),
    );
    await cli(['--config', 'other.json', 'verify'], { cwd });
  });

  test('a bad --threshold is bad usage: exit 64, INVALID_ARGUMENT, nothing created', async () => {
    const cwd = await tempDir();
    const r = await runCli(['init', '--app', 'demo_app', '--unencrypted', '--threshold', 'root=x'], { cwd });
    assertExit(r, 64);
    assert.match(r.stderr, /error INVALID_ARGUMENT: --threshold takes role=number, not "root=x"/);
    assert.deepEqual(await readdir(cwd), []);
    const json = await runCli(['--json', 'init', '--app', 'demo_app', '--threshold', 'bogus=1'], { cwd });
    assertExit(json, 64);
    assert.equal(json.json<JsonError>().error.code, 'INVALID_ARGUMENT');
  });

  test('an invalid --app is bad usage: exit 64, APP_NAME_INVALID naming the name (no config blamed), nothing created', async () => {
    const cwd = await tempDir();
    const r = await runCli(['init', '--app', 'my app', '--unencrypted'], { cwd });
    assertExit(r, 64);
    assert.match(r.stderr, /^error APP_NAME_INVALID: Invalid app name "my app"/m);
    assert.doesNotMatch(r.stderr, /notsotuf\.json|config/i);
    assert.deepEqual(await readdir(cwd), []);
  });

  test('init twice: CONFIG_EXISTS, nothing changed', async () => {
    const cwd = await initialised();
    const before = await treeSnapshot(cwd);
    const r = await runCli(['init', '--app', 'other_app', '--unencrypted'], { cwd });
    assertExit(r, 1);
    assert.match(r.stderr, /error CONFIG_EXISTS/);
    assert.deepEqual(await treeSnapshot(cwd), before);
  });

  test('init without --app and without a terminal fails instead of asking', async () => {
    const cwd = await tempDir();
    const r = await runCli(['init', '--unencrypted'], { cwd, stdin: 'open-pipe', timeoutMs: 15_000 });
    assert.equal(r.timedOut, false);
    assertExit(r, 64);
    assert.match(r.stderr, /error INVALID_ARGUMENT: The app name is missing/);
    assert.deepEqual(await readdir(cwd), []);
  });
});
