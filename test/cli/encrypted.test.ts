/**
 * The full publisher flow with encrypted keys (the default), and where passphrases come from. Encrypted keys
 * cost about half a second per key operation (scrypt N=2^17), so one repository serves every test here.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { seedHexOf } from '../../src/tuf/ed25519.js';
import { decodePrivateKeyFile } from '../../src/tuf/private-key-file.js';
import { makeBundle, readJson, tempDir, treeSnapshot } from './files.js';
import { assertExit, cli, runCli } from './run-cli.js';

const MAIN_PW = 'correct horse battery staple';
const TS_PW = 'timestamp only';
/** The passphrases init used: one for every key, and its own one for the timestamp key. */
const INIT_ENV = { NOTSOTUF_PASSPHRASE: MAIN_PW, NOTSOTUF_PASSPHRASE_TIMESTAMP: TS_PW };
const KEYS = ['root', 'targets', 'snapshot', 'timestamp'] as const;

interface ReleaseRow {
  app: string;
  version: string;
  required: boolean;
  archive: { name: string; length: number } | null;
  user: unknown;
}

describe('encrypted keys: init, release, status, verify', { timeout: 240_000 }, () => {
  let ws: string;
  let cwd: string;
  const bundle = (v: string) => join(ws, `bundle-${v}`);

  before(async () => {
    ws = await tempDir('notsotuf-cli-enc-');
    cwd = join(ws, 'pub');
    await mkdir(cwd);
    await makeBundle(bundle('1.0.0'), '1.0.0');
    await makeBundle(bundle('1.1.0'), '1.1.0');
    await makeBundle(bundle('1.2.0'), '1.2.0');
    await makeBundle(bundle('2.0.0'), '2.0.0');
  });

  test('init --app demo_app encrypts every private key', async () => {
    const r = await cli(['init', '--app', 'demo_app'], { cwd, env: INIT_ENV });
    assert.match(r.stdout, /created .*notsotuf\.json/);
    const config = await readJson(join(cwd, 'notsotuf.json'));
    assert.equal(config['app_name'], 'demo_app');
    assert.equal(config['encrypt_new_keys'], true);
    for (const name of KEYS) {
      const privatePath = join(cwd, 'keystore', name);
      const text = await readFile(privatePath, 'utf8');
      const file = JSON.parse(text) as Record<string, unknown>;
      assert.equal(file['notsotuf_private_key'], 1, `${name} is not a notsotuf-v1 key file`);
      assert.deepEqual(file['kdf'] && (file['kdf'] as { name: string; N: number }).name, 'scrypt');
      assert.equal((file['kdf'] as { N: number }).N, 2 ** 17);
      assert.equal((await stat(privatePath)).mode & 0o777, 0o600, `${name} is readable by others`);
      const pub = await readJson<{ keytype: string; scheme: string; keyval: { public: string } }>(
        `${privatePath}.pub`,
      );
      assert.equal(pub.keytype, 'ed25519');
      assert.equal(pub.scheme, 'ed25519');
      assert.match(pub.keyval.public, /^[0-9a-f]{64}$/);
      assert.equal(
        (await stat(`${privatePath}.pub`)).mode & 0o044,
        0o044,
        `${name}.pub is not world-readable`,
      );
    }
    // The seed never appears in the file, in hex or base64.
    const targetsPath = join(cwd, 'keystore', 'targets');
    const targetsText = await readFile(targetsPath, 'utf8');
    const material = await decodePrivateKeyFile(targetsText, { path: targetsPath, passphrase: MAIN_PW });
    const seed = seedHexOf(material.privateKey);
    for (const form of [
      seed,
      Buffer.from(seed, 'hex').toString('base64'),
      Buffer.from(seed, 'hex').toString('base64url'),
    ]) {
      assert.ok(!targetsText.toLowerCase().includes(form.toLowerCase()), 'the key file holds the seed');
    }
    // NOTSOTUF_PASSPHRASE_TIMESTAMP took precedence over NOTSOTUF_PASSPHRASE when the key was made.
    const tsPath = join(cwd, 'keystore', 'timestamp');
    await assert.rejects(
      decodePrivateKeyFile(await readFile(tsPath, 'utf8'), { path: tsPath, passphrase: MAIN_PW }),
      { code: 'KEY_DECRYPT_FAILED' },
    );
  });

  test('release add with --meta, then release list --json shows it', async () => {
    const r = await cli(
      ['release', 'add', bundle('1.0.0'), '--version', '1.0.0', '--meta', '{"changes":["x"]}'],
      {
        cwd,
        env: INIT_ENV,
      },
    );
    assert.match(r.stdout, /demo_app-1\.0\.0\.tar\.gz/);
    assert.match(r.stdout, /targets v2, snapshot v2, timestamp v2/);
    const list = (await cli(['release', 'list', '--json'], { cwd })).json<{
      ok: boolean;
      releases: ReleaseRow[];
    }>();
    assert.equal(list.ok, true);
    assert.equal(list.releases.length, 1);
    const [rel] = list.releases;
    assert.equal(rel?.app, 'demo_app');
    assert.equal(rel?.version, '1.0.0');
    assert.equal(rel?.required, false);
    assert.equal(rel?.archive?.name, 'demo_app-1.0.0.tar.gz');
    assert.deepEqual(rel?.user, { changes: ['x'] });
  });

  test('status --json and verify', async () => {
    const status = (await cli(['status', '--json'], { cwd })).json<{
      ok: boolean;
      appName: string;
      consistentSnapshot: boolean;
      roles: { role: string; version: number; validSignatures: number; threshold: number }[];
      releases: { app: string; version: string }[];
    }>();
    assert.equal(status.ok, true);
    assert.equal(status.appName, 'demo_app');
    assert.equal(status.consistentSnapshot, true);
    const versions = Object.fromEntries(status.roles.map((r) => [r.role, r.version]));
    assert.deepEqual(versions, { root: 1, targets: 2, snapshot: 2, timestamp: 2 });
    for (const role of status.roles) assert.ok(role.validSignatures >= role.threshold, role.role);
    assert.deepEqual(
      status.releases.map((r) => `${r.app} ${r.version}`),
      ['demo_app 1.0.0'],
    );
    const human = await cli(['status'], { cwd });
    assert.match(human.stdout, /targets\s+v2/);
    const verify = await cli(['verify'], { cwd });
    assert.match(verify.stdout, /^ok: root v1, targets v2, 1 target\(s\) verified/);
    const report = (await cli(['verify', '--json'], { cwd })).json<{ ok: boolean; targetsChecked: number }>();
    assert.equal(report.ok, true);
    assert.equal(report.targetsChecked, 1);
  });

  test('per-key NOTSOTUF_PASSPHRASE_<KEY> variables win over NOTSOTUF_PASSPHRASE', async () => {
    await cli(['release', 'add', bundle('1.1.0'), '--version', '1.1.0'], {
      cwd,
      env: {
        NOTSOTUF_PASSPHRASE: 'not the passphrase of any key',
        NOTSOTUF_PASSPHRASE_TARGETS: MAIN_PW,
        NOTSOTUF_PASSPHRASE_SNAPSHOT: MAIN_PW,
        NOTSOTUF_PASSPHRASE_TIMESTAMP: TS_PW,
      },
    });
  });

  test('--passphrase-file supplies the passphrase (first line)', async () => {
    const file = join(ws, 'passphrase.txt');
    await writeFile(file, `${MAIN_PW}\nsecond line is ignored\n`, { mode: 0o600 });
    await cli(['--passphrase-file', file, 'release', 'add', bundle('1.2.0'), '--version', '1.2.0'], {
      cwd,
      env: { NOTSOTUF_PASSPHRASE_TIMESTAMP: TS_PW },
    });
  });

  test('no passphrase and stdin not a terminal: PASSPHRASE_REQUIRED at once, nothing written', async () => {
    const before = await treeSnapshot(cwd);
    const r = await runCli(['release', 'add', bundle('2.0.0'), '--version', '2.0.0'], {
      cwd,
      stdin: 'open-pipe', // a prompt would wait on this pipe forever
      timeoutMs: 20_000,
    });
    assert.equal(r.timedOut, false, 'the CLI waited for a passphrase on a pipe');
    assertExit(r, 1);
    assert.match(r.stderr, /PASSPHRASE_REQUIRED/);
    assert.match(r.stderr, /hint: \S/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace without --debug');
    assert.deepEqual(await treeSnapshot(cwd), before);
  });

  test('a new encrypted key without a passphrase: PASSPHRASE_REQUIRED naming the variable', async () => {
    const before = await treeSnapshot(cwd);
    const r = await runCli(['keys', 'create', 'new-key'], { cwd, timeoutMs: 20_000 });
    assertExit(r, 1);
    assert.match(r.stderr, /error PASSPHRASE_REQUIRED/);
    assert.match(r.stderr, /hint: .*NOTSOTUF_PASSPHRASE_NEW_KEY.*--unencrypted/);
    assert.deepEqual(await treeSnapshot(cwd), before);
  });

  test('a wrong passphrase: KEY_DECRYPT_FAILED, repository and keys unchanged', async () => {
    const before = await treeSnapshot(cwd);
    // targets and snapshot decrypt; the timestamp key (its own passphrase) fails last, after the archive is made.
    const r = await runCli(['release', 'add', bundle('2.0.0'), '--version', '2.0.0'], {
      cwd,
      env: { NOTSOTUF_PASSPHRASE: MAIN_PW },
    });
    assertExit(r, 1);
    assert.match(r.stderr, /error KEY_DECRYPT_FAILED: .*timestamp/);
    assert.match(r.stderr, /hint: /);
    assert.deepEqual(await treeSnapshot(cwd), before);
    const report = (await cli(['verify', '--json'], { cwd })).json<{ ok: boolean; targetsChecked: number }>();
    // three archives and the two patches between them
    assert.deepEqual([report.ok, report.targetsChecked], [true, 5]);
  });
});
