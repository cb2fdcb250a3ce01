/**
 * One passphrase for all keys of a repository (`init --one-passphrase`, `"passphrase": "shared"`), and switching
 * an existing repository to it (`keys passphrase --shared`), through the environment and --passphrase-file. The
 * terminal side (prompt counts, retries, progress bars) is in tty-prompt.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { decodePrivateKeyFile } from '../../src/tuf/private-key-file.js';
import { makeBundle, readJson, tempDir, treeSnapshot } from './files.js';
import { assertExit, cli, runCli } from './run-cli.js';

const KEYS = ['root', 'targets', 'snapshot', 'timestamp'] as const;
const SHARED_PW = 'one for all keys';
const OLD_PW = 'old main passphrase';
const OLD_TS_PW = 'old timestamp passphrase';
const NEW_PW = 'the new shared one';

/** Whether every listed key of `cwd/keystore` opens with `passphrase` (and is owner-only). */
async function assertKeysOpenWith(cwd: string, names: readonly string[], passphrase: string): Promise<void> {
  for (const name of names) {
    const path = join(cwd, 'keystore', name);
    const text = await readFile(path, 'utf8');
    await decodePrivateKeyFile(text, { path, passphrase });
    assert.equal((await stat(path)).mode & 0o777, 0o600, `${name} is readable by others`);
  }
}

describe('one passphrase for all keys', { timeout: 300_000 }, () => {
  let ws: string;
  const bundle = (v: string) => join(ws, `bundle-${v}`);

  before(async () => {
    ws = await tempDir('notsotuf-cli-shared-');
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) await makeBundle(bundle(v), v);
  });

  describe('init --one-passphrase', () => {
    let cwd: string;
    before(async () => {
      cwd = join(ws, 'shared');
      await mkdir(cwd);
    });

    test('records "passphrase": "shared" and encrypts every key with NOTSOTUF_PASSPHRASE', async () => {
      await cli(['init', '--app', 'shared_app', '--one-passphrase'], {
        cwd,
        env: { NOTSOTUF_PASSPHRASE: SHARED_PW },
      });
      const config = await readJson(join(cwd, 'notsotuf.json'));
      assert.equal(config['passphrase'], 'shared');
      await assertKeysOpenWith(cwd, KEYS, SHARED_PW);
    });

    test('--one-passphrase with --unencrypted is a usage error', async () => {
      const other = join(ws, 'usage');
      await mkdir(other);
      const r = await runCli(['init', '--app', 'x', '--one-passphrase', '--unencrypted'], { cwd: other });
      assertExit(r, 64);
      assert.match(r.stderr, /--one-passphrase/);
    });

    test('release add with the passphrase from --passphrase-file', async () => {
      const file = join(ws, 'shared.pass');
      await writeFile(file, `${SHARED_PW}\n`, { mode: 0o600 });
      const r = await cli(
        ['--passphrase-file', file, 'release', 'add', bundle('1.0.0'), '--version', '1.0.0'],
        {
          cwd,
        },
      );
      assert.match(r.stdout, /targets v2, snapshot v2, timestamp v2/);
    });

    test('a wrong NOTSOTUF_PASSPHRASE fails at once, even with stdin open: KEY_DECRYPT_FAILED and a hint', async () => {
      const before = await treeSnapshot(cwd);
      const r = await runCli(['release', 'add', bundle('1.1.0'), '--version', '1.1.0'], {
        cwd,
        env: { NOTSOTUF_PASSPHRASE: 'not it' },
        stdin: 'open-pipe',
        timeoutMs: 30_000,
      });
      assert.equal(r.timedOut, false, 'the CLI waited for input');
      assertExit(r, 1);
      assert.match(r.stderr, /error KEY_DECRYPT_FAILED: .*passphrase of this repository/);
      assert.match(
        r.stderr,
        /hint: This repository has one passphrase for all keys: check NOTSOTUF_PASSPHRASE/,
      );
      assert.deepEqual(await treeSnapshot(cwd), before);
    });

    test('keys create gives a new key the passphrase that opens the others', async () => {
      const missing = await runCli(['keys', 'create', 'extra'], { cwd, timeoutMs: 30_000 });
      assertExit(missing, 1);
      assert.match(missing.stderr, /error PASSPHRASE_REQUIRED/);
      await cli(['keys', 'create', 'extra'], { cwd, env: { NOTSOTUF_PASSPHRASE: SHARED_PW } });
      await assertKeysOpenWith(cwd, ['extra'], SHARED_PW);
    });
  });

  describe('keys passphrase --shared on a repository with a passphrase per key', () => {
    let cwd: string;
    /** The passphrases the keys have before the switch. */
    const OLD_ENV = { NOTSOTUF_PASSPHRASE: OLD_PW, NOTSOTUF_PASSPHRASE_TIMESTAMP: OLD_TS_PW };

    before(async () => {
      cwd = join(ws, 'per-key');
      await mkdir(cwd);
      await cli(['init', '--app', 'switch_app'], { cwd, env: OLD_ENV });
      // Unknown fields are kept: this one makes the config too big for the size limit of the test below.
      const config = await readJson(join(cwd, 'notsotuf.json'));
      await writeFile(
        join(cwd, 'notsotuf.json'),
        `${JSON.stringify({ ...config, x_padding: 'x'.repeat(4096) }, null, 2)}\n`,
      );
    });

    test('a wrong old passphrase for the last key: KEY_DECRYPT_FAILED, nothing rewritten', async () => {
      const before = await treeSnapshot(cwd);
      const r = await runCli(['keys', 'passphrase', '--shared'], {
        cwd,
        env: { NOTSOTUF_PASSPHRASE: OLD_PW, NOTSOTUF_NEW_PASSPHRASE: NEW_PW },
      });
      assertExit(r, 1);
      assert.match(r.stderr, /error KEY_DECRYPT_FAILED: .*timestamp/);
      assert.deepEqual(await treeSnapshot(cwd), before);
    });

    test('no new passphrase (not on a terminal): PASSPHRASE_REQUIRED, nothing rewritten', async () => {
      const before = await treeSnapshot(cwd);
      const r = await runCli(['keys', 'passphrase', '--shared'], { cwd, env: OLD_ENV, stdin: 'open-pipe' });
      assertExit(r, 1);
      assert.match(r.stderr, /error PASSPHRASE_REQUIRED/);
      assert.match(r.stderr, /hint: .*NOTSOTUF_NEW_PASSPHRASE/);
      assert.deepEqual(await treeSnapshot(cwd), before);
    });

    test('a write failing after the keys were rewritten puts every key back (ulimit -f)', {
      skip: process.platform === 'win32' && 'needs sh and ulimit',
    }, async () => {
      const before = await treeSnapshot(cwd);
      // Key files are about 500 bytes and fit under the limit; the padded config (over 4 KiB) is written last
      // and fails with EFBIG, after all four keys were replaced. (`ulimit -f` counts 512-byte blocks in dash, 1 KiB
      // in bash; Node ignores SIGXFSZ, so the write gets EFBIG.)
      const r = await runCli(['keys', 'passphrase', '--shared'], {
        cwd,
        env: { ...OLD_ENV, NOTSOTUF_NEW_PASSPHRASE: NEW_PW },
        wrapper: ['sh', '-c', 'ulimit -f 2; trap "" XFSZ; exec "$0" "$@"'],
      });
      assertExit(r, 1);
      assert.match(r.stderr, /error IO_ERROR: .*notsotuf\.json/);
      assert.deepEqual(await treeSnapshot(cwd), before);
      await assertKeysOpenWith(cwd, ['root', 'targets', 'snapshot'], OLD_PW);
      await assertKeysOpenWith(cwd, ['timestamp'], OLD_TS_PW);
    });

    test('switches: every key opens with the new passphrase, keyids and config otherwise unchanged', async () => {
      const pubsBefore = await Promise.all(
        KEYS.map((k) => readFile(join(cwd, 'keystore', `${k}.pub`), 'utf8')),
      );
      const configBefore = await readJson(join(cwd, 'notsotuf.json'));
      const r = await cli(['keys', 'passphrase', '--shared', '--json'], {
        cwd,
        env: { ...OLD_ENV, NOTSOTUF_NEW_PASSPHRASE: NEW_PW },
      });
      const { result } = r.json<{ result: { mode: string; reencrypted: string[] } }>();
      assert.equal(result.mode, 'shared');
      assert.deepEqual([...result.reencrypted].sort(), [...KEYS].sort());
      await assertKeysOpenWith(cwd, KEYS, NEW_PW);
      const pubsAfter = await Promise.all(
        KEYS.map((k) => readFile(join(cwd, 'keystore', `${k}.pub`), 'utf8')),
      );
      assert.deepEqual(pubsAfter, pubsBefore);
      assert.deepEqual(await readJson(join(cwd, 'notsotuf.json')), { ...configBefore, passphrase: 'shared' });
    });

    test('after the switch, the new passphrase alone signs a release', async () => {
      const r = await cli(['release', 'add', bundle('2.0.0'), '--version', '2.0.0'], {
        cwd,
        env: { NOTSOTUF_PASSPHRASE: NEW_PW },
      });
      assert.match(r.stdout, /targets v2, snapshot v2, timestamp v2/);
    });

    test('--per-key only records the choice; the keys keep their passphrase', async () => {
      const keysBefore = await Promise.all(KEYS.map((k) => readFile(join(cwd, 'keystore', k), 'utf8')));
      await cli(['keys', 'passphrase', '--per-key'], { cwd });
      assert.equal((await readJson(join(cwd, 'notsotuf.json')))['passphrase'], 'per-key');
      const keysAfter = await Promise.all(KEYS.map((k) => readFile(join(cwd, 'keystore', k), 'utf8')));
      assert.deepEqual(keysAfter, keysBefore);
      const usage = await runCli(['keys', 'passphrase'], { cwd });
      assertExit(usage, 64);
    });
  });
});
