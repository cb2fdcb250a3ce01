import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { generateEd25519, seedHexOf } from '../../src/tuf/ed25519.js';
import {
  isValidKeyName,
  keyPairPaths,
  readPrivateKey,
  readPublicKey,
  writeKeyPair,
} from '../../src/tuf/key-pair-files.js';
import { decodePrivateKeyFile } from '../../src/tuf/private-key-file.js';
import { FIXTURE_KEYIDS, KEYSTORE_DIR, TEST_SCRYPT_N } from './fixture-keys.js';

function rejectsWith(code: string) {
  return (e: unknown) => isNotsotufError(e) && e.code === code;
}

describe('key pair files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'notsotuf-keys-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an encrypted pair with modes 0600/0644 and reads it back', async () => {
    const key = generateEd25519();
    const keysDir = join(dir, 'new', 'keys');
    const written = await writeKeyPair(keysDir, 'root', key, { passphrase: 'pw', scryptN: TEST_SCRYPT_N });
    assert.deepEqual(written, { ...keyPairPaths(keysDir, 'root'), keyid: written.keyid });
    const umask = process.umask();
    assert.equal((await stat(written.privatePath)).mode & 0o777, 0o600 & ~umask);
    assert.equal((await stat(written.publicPath)).mode & 0o777, 0o644 & ~umask);
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700 & ~umask);

    const pub = await readPublicKey(keysDir, 'root');
    assert.equal(pub.keyid, written.keyid);
    assert.equal(pub.publicHex, key.publicHex);
    await assert.rejects(readPrivateKey(keysDir, 'root'), rejectsWith('PASSPHRASE_REQUIRED'));
    const priv = await readPrivateKey(keysDir, 'root', 'pw');
    assert.equal(priv.format, 'notsotuf-v1');
    assert.equal(priv.keyid, written.keyid);
    assert.equal(seedHexOf(priv.privateKey), seedHexOf(key.privateKey));
  });

  it('refuses to overwrite an existing key (KEY_EXISTS) unless asked', async () => {
    const first = generateEd25519();
    await writeKeyPair(dir, 'targets', first);
    const before = await readFile(join(dir, 'targets'), 'utf8');
    await assert.rejects(
      writeKeyPair(dir, 'targets', generateEd25519()),
      (e) => isNotsotufError(e, 'KEY_EXISTS') && e.path === join(dir, 'targets'),
    );
    assert.equal(await readFile(join(dir, 'targets'), 'utf8'), before);

    // A lone .pub file also blocks the name.
    await writeFile(join(dir, 'lonely.pub'), 'x');
    await assert.rejects(writeKeyPair(dir, 'lonely', generateEd25519()), rejectsWith('KEY_EXISTS'));

    const second = generateEd25519();
    await writeKeyPair(dir, 'targets', second, { overwrite: true });
    assert.equal((await readPublicKey(dir, 'targets')).publicHex, second.publicHex);
    const priv = await readPrivateKey(dir, 'targets');
    assert.equal(priv.format, 'legacy-plain');
    assert.equal(priv.publicHex, second.publicHex);
  });

  it('rejects key names that could leave the directory', async () => {
    for (const name of [
      '',
      '.',
      '..',
      '../x',
      'a/b',
      'a\\b',
      'x.pub',
      ' root',
      'root\n',
      'ключ',
      'a'.repeat(129),
    ]) {
      assert.equal(isValidKeyName(name), false, name);
      await assert.rejects(writeKeyPair(dir, name, generateEd25519()), rejectsWith('KEY_INVALID'));
      await assert.rejects(readPublicKey(dir, name), rejectsWith('KEY_INVALID'));
      await assert.rejects(readPrivateKey(dir, name), rejectsWith('KEY_INVALID'));
    }
    assert.equal(isValidKeyName('Root_key-2'), true);
  });

  it('reports a missing key as KEY_NOT_FOUND with its path', async () => {
    await assert.rejects(
      readPublicKey(dir, 'nope'),
      (e) => isNotsotufError(e, 'KEY_NOT_FOUND') && e.path === join(dir, 'nope.pub'),
    );
    await assert.rejects(
      readPrivateKey(dir, 'nope'),
      (e) => isNotsotufError(e, 'KEY_NOT_FOUND') && e.path === join(dir, 'nope'),
    );
  });

  it('reads the tufup fixture keystore', async () => {
    for (const [name, keyid] of Object.entries(FIXTURE_KEYIDS)) {
      assert.equal((await readPublicKey(KEYSTORE_DIR, name)).keyid, keyid);
      assert.equal((await readPrivateKey(KEYSTORE_DIR, name)).keyid, keyid);
    }
  });

  it('rewrites a tufup key in tufup form, so its keyid survives and tufup can read it', async () => {
    const original = await readPrivateKey(KEYSTORE_DIR, 'snapshot');
    const written = await writeKeyPair(join(dir, 'imported'), 'snapshot', original);
    assert.equal(written.keyid, FIXTURE_KEYIDS['snapshot']);
    assert.equal(
      await readFile(written.publicPath, 'utf8'),
      await readFile(join(KEYSTORE_DIR, 'snapshot.pub'), 'utf8'),
    );
    assert.equal(
      await readFile(written.privatePath, 'utf8'),
      await readFile(join(KEYSTORE_DIR, 'snapshot'), 'utf8'),
    );
    assert.equal((await readPublicKey(join(dir, 'imported'), 'snapshot')).keyid, FIXTURE_KEYIDS['snapshot']);
  });

  it('refuses a keyid that belongs to neither .pub form', async () => {
    const key = generateEd25519();
    await assert.rejects(
      writeKeyPair(dir, 'odd', { ...key, keyid: 'ab'.repeat(32) }),
      rejectsWith('KEY_INVALID'),
    );
  });

  it('reports a directory in place of a key file as KEY_INVALID', async () => {
    await assert.rejects(readPrivateKey(dir, 'new'), rejectsWith('KEY_INVALID'));
  });

  it('writes unencrypted keys that decode as legacy-plain', async () => {
    const key = generateEd25519();
    const written = await writeKeyPair(dir, 'plain', key);
    const text = await readFile(written.privatePath, 'utf8');
    const decoded = await decodePrivateKeyFile(text, { path: written.privatePath });
    assert.equal(decoded.format, 'legacy-plain');
    assert.equal(decoded.keyid, written.keyid);
  });
});
