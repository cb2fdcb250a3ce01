/** Keys and thresholds changed across separate CLI runs, and multi-party signing with two key directories. */
import assert from 'node:assert/strict';
import { access, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { makeBundle, metadataSigned, readJson, tempDir, treeSnapshot } from './files.js';
import { assertExit, cli, runCli } from './run-cli.js';

interface KeyRow {
  name: string;
  keyid: string;
  dir: string;
  privateKey: string;
  roles: string[];
}
type RoleDefs = Record<string, { keyids: string[]; threshold: number }>;

async function rootRoles(cwd: string): Promise<RoleDefs> {
  return (await metadataSigned(join(cwd, 'repository'), 'root.json'))['roles'] as RoleDefs;
}

async function keyList(cwd: string, ...globals: string[]): Promise<Map<string, KeyRow>> {
  const { keys } = (await cli([...globals, 'keys', 'list', '--json'], { cwd })).json<{ keys: KeyRow[] }>();
  return new Map(keys.map((k) => [k.name, k]));
}

async function verifyOk(cwd: string): Promise<{ rootVersion: number }> {
  const report = (await cli(['verify', '--json'], { cwd })).json<{ ok: boolean; rootVersion: number }>();
  assert.equal(report.ok, true);
  return report;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('keys and thresholds across runs', { timeout: 180_000 }, () => {
  let cwd: string;
  before(async () => {
    cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
  });

  test('keys create k2 --unencrypted writes a plain key pair', async () => {
    const r = await cli(['keys', 'create', 'k2', '--unencrypted'], { cwd });
    assert.match(r.stdout, /created key k2 \([0-9a-f]{64}\) in .*keystore, NOT encrypted/);
    const file = JSON.parse(await readFile(join(cwd, 'keystore', 'k2'), 'utf8')) as Record<string, unknown>;
    assert.equal(file['notsotuf_private_key'], undefined);
    assert.equal(file['keytype'], 'ed25519');
    assert.equal((await keyList(cwd)).get('k2')?.privateKey, 'plain');
    assertExit(await runCli(['keys', 'create', 'k2', '--unencrypted'], { cwd }), 1, 'KEY_EXISTS');
  });

  test('keys add root k2, threshold set root 2, keys list shows the roles', async () => {
    await cli(['keys', 'add', 'root', 'k2'], { cwd });
    assert.equal((await verifyOk(cwd)).rootVersion, 2);
    await cli(['threshold', 'set', 'root', '2'], { cwd });
    assert.equal((await verifyOk(cwd)).rootVersion, 3);
    const roles = await rootRoles(cwd);
    assert.equal(roles['root']?.threshold, 2);
    assert.equal(roles['root']?.keyids.length, 2);
    const config = await readJson<{ key_map: Record<string, string[]>; thresholds: Record<string, number> }>(
      join(cwd, 'notsotuf.json'),
    );
    assert.deepEqual(config.key_map['root'], ['root', 'k2']);
    assert.equal(config.thresholds['root'], 2);
    const keys = await keyList(cwd);
    assert.deepEqual(keys.get('k2')?.roles, ['root']);
    assert.deepEqual(keys.get('root')?.roles, ['root']);
    assert.deepEqual(keys.get('targets')?.roles, ['targets']);
    assert.ok(roles['root']?.keyids.includes(keys.get('k2')?.keyid ?? ''));
  });

  test('keys replace timestamp ts2 creates ts2 and signs timestamp with it', async () => {
    const r = await cli(['keys', 'replace', 'timestamp', 'ts2'], { cwd });
    assert.match(r.stdout, /root v4/);
    assert.equal((await verifyOk(cwd)).rootVersion, 4);
    const keys = await keyList(cwd);
    assert.deepEqual(keys.get('ts2')?.roles, ['timestamp']);
    assert.deepEqual(keys.get('timestamp')?.roles, []);
    assert.equal(keys.get('ts2')?.privateKey, 'plain', 'encrypt_new_keys is false in this repository');
    assert.deepEqual((await rootRoles(cwd))['timestamp']?.keyids, [keys.get('ts2')?.keyid]);
    const config = await readJson<{ key_map: Record<string, string[]> }>(join(cwd, 'notsotuf.json'));
    assert.deepEqual(config.key_map['timestamp'], ['ts2']);
    const ts = await readJson<{ signatures: { keyid: string }[] }>(
      join(cwd, 'repository', 'metadata', 'timestamp.json'),
    );
    assert.deepEqual(
      ts.signatures.map((s) => s.keyid),
      [keys.get('ts2')?.keyid],
    );
  });

  test('keys revoke root k2 with threshold 2: THRESHOLD_INVALID, nothing written', async () => {
    const before = await treeSnapshot(cwd);
    const r = await runCli(['keys', 'revoke', 'root', 'k2'], { cwd });
    assertExit(r, 1);
    assert.match(r.stderr, /error THRESHOLD_INVALID: /);
    assert.match(r.stderr, /hint: .*threshold set root/);
    assert.deepEqual(await treeSnapshot(cwd), before);
    await verifyOk(cwd);
  });

  test('threshold set root 1, then keys revoke root k2 works', async () => {
    await cli(['threshold', 'set', 'root', '1'], { cwd });
    assert.equal((await verifyOk(cwd)).rootVersion, 5);
    await cli(['keys', 'revoke', 'root', 'k2'], { cwd });
    assert.equal((await verifyOk(cwd)).rootVersion, 6);
    assert.deepEqual((await keyList(cwd)).get('k2')?.roles, []);
    const roles = await rootRoles(cwd);
    assert.deepEqual([roles['root']?.threshold, roles['root']?.keyids.length], [1, 1]);
  });

  test('bad key changes fail with their codes', async () => {
    // Exit 64 for bad usage (an unknown role, a malformed number), 1 for what the repository refuses.
    const cases: [string[], string, number][] = [
      [['keys', 'add', 'root', 'nope'], 'KEY_NOT_FOUND', 1],
      [['keys', 'add', 'wizard', 'k2'], 'INVALID_ARGUMENT', 64],
      [['keys', 'revoke', 'targets', 'k2'], 'KEY_NOT_IN_ROLE', 1],
      [['threshold', 'set', 'root', '0'], 'INVALID_ARGUMENT', 64],
      [['threshold', 'set', 'root', '1'], 'INVALID_ARGUMENT', 1],
      [['threshold', 'set', 'targets', '2'], 'THRESHOLD_INVALID', 1],
    ];
    const before = await treeSnapshot(cwd);
    for (const [args, code, exit] of cases) {
      const r = await runCli(['--json', ...args], { cwd });
      assertExit(r, exit, args.join(' '));
      assert.equal(r.json<{ error: { code: string } }>().error.code, code, args.join(' '));
    }
    assert.deepEqual(await treeSnapshot(cwd), before);
  });
});

describe('multi-party signing with two key directories', { timeout: 180_000 }, () => {
  let cwd: string;
  before(async () => {
    cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    // A second key holder's root key, whose private half lives only in other/.
    await cli(['--keys-dir', 'other', 'keys', 'create', 'r2', '--unencrypted'], { cwd });
    await copyFile(join(cwd, 'other', 'r2.pub'), join(cwd, 'keystore', 'r2.pub'));
    await cli(['keys', 'add', 'root', 'r2'], { cwd });
    await cli(['--keys-dir', 'other', '--keys-dir', 'keystore', 'threshold', 'set', 'root', '2'], { cwd });
    await cli(['keys', 'create', 'snap2', '--unencrypted'], { cwd });
    assert.equal((await verifyOk(cwd)).rootVersion, 3);
  });

  test('a root change without the second root key: THRESHOLD_NOT_MET, nothing written', async () => {
    const before = await treeSnapshot(cwd);
    const r = await runCli(['keys', 'add', 'snapshot', 'snap2'], { cwd });
    assertExit(r, 1);
    assert.match(r.stderr, /error THRESHOLD_NOT_MET: .*missing r2.*Nothing was written/);
    assert.match(r.stderr, /hint: .*--stage/);
    assert.deepEqual(await treeSnapshot(cwd), before);
  });

  test('--stage saves it; status warns; other changes wait', async () => {
    const repoBefore = await treeSnapshot(join(cwd, 'repository'));
    const r = await cli(['keys', 'add', 'snapshot', 'snap2', '--stage'], { cwd });
    assert.match(r.stdout, /staged "keys add snapshot snap2"/);
    assert.match(r.stdout, /root needs 1 more signature\(s\) from: r2/);
    assert.ok(await exists(join(cwd, 'notsotuf-staged')));
    assert.deepEqual(await treeSnapshot(join(cwd, 'repository')), repoBefore, 'the repository changed');
    const status = await cli(['status'], { cwd });
    assert.match(status.stdout, /warning: A change is staged/);
    const json = (await cli(['status', '--json'], { cwd })).json<{
      stagedChange: boolean;
      warnings: string[];
    }>();
    assert.equal(json.stagedChange, true);
    assert.ok(json.warnings.some((w) => /staged/.test(w)));
    const bundle = await makeBundle(join(cwd, 'bundle'), '1.0.0');
    const blocked = await runCli(['release', 'add', bundle, '--version', '1.0.0'], { cwd });
    assertExit(blocked, 1);
    assert.match(blocked.stderr, /error STAGED_CHANGE_PENDING/);
    await verifyOk(cwd);
  });

  test('sign with both key directories publishes the staged change', async () => {
    const r = await cli(['sign', '--keys-dir', 'other', '--keys-dir', 'keystore'], { cwd });
    assert.match(r.stdout, /signed and written: root v4/);
    assert.equal(await exists(join(cwd, 'notsotuf-staged')), false);
    assert.equal((await verifyOk(cwd)).rootVersion, 4);
    const keys = await keyList(cwd, '--keys-dir', 'keystore', '--keys-dir', 'other');
    assert.deepEqual(keys.get('snap2')?.roles, ['snapshot']);
    assert.deepEqual(keys.get('r2')?.roles, ['root']);
    assert.equal(keys.get('r2')?.dir, join(cwd, 'keystore'), 'the first directory wins');
    const root = await readJson<{ signatures: unknown[] }>(
      join(cwd, 'repository', 'metadata', '4.root.json'),
    );
    assert.equal(root.signatures.length, 2);
    const status = (await cli(['status', '--json'], { cwd })).json<{
      stagedChange: boolean;
      warnings: string[];
    }>();
    assert.equal(status.stagedChange, false);
    assert.deepEqual(status.warnings, []);
  });

  test('sign and sign --discard with nothing staged: NOTHING_STAGED', async () => {
    for (const args of [['sign', '--discard'], ['sign']]) {
      const r = await runCli(['--json', ...args], { cwd });
      assertExit(r, 1, args.join(' '));
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'NOTHING_STAGED');
    }
  });

  test('sign --discard drops a staged change', async () => {
    await cli(['threshold', 'set', 'snapshot', '2', '--stage'], { cwd });
    assert.ok(await exists(join(cwd, 'notsotuf-staged')));
    const r = await cli(['sign', '--discard'], { cwd });
    assert.match(r.stdout, /staged change discarded/);
    assert.equal(await exists(join(cwd, 'notsotuf-staged')), false);
    assert.equal((await verifyOk(cwd)).rootVersion, 4);
  });
});
