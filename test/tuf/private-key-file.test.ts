import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { generateEd25519, publicKeyFromHex, seedHexOf, signHex } from '../../src/tuf/ed25519.js';
import {
  decodePrivateKeyFile,
  detectPrivateKeyFormat,
  encodePrivateKeyFile,
  isEncryptedKeyFile,
} from '../../src/tuf/private-key-file.js';
import { computeKeyId, parsePublicKeyFile } from '../../src/tuf/public-key-file.js';
import { FIXTURE_KEYIDS, KEYSTORE_DIR, LEGACY_KEYS_DIR, TEST_SCRYPT_N } from './fixture-keys.js';

const TARGETS_SEED = 'bc11b35ca75748b44c7b6287968b0e109cfbf1c4ca8c03febb85ae0fe99d8a58';

async function fixtureText(name: string): Promise<string> {
  return readFile(join(KEYSTORE_DIR, name), 'utf8');
}

function rejectsWith(code: string) {
  return (e: unknown) => isNotsotufError(e) && e.code === code;
}

/** The fields of a notsotuf-v1 file that the tamper tests edit. */
interface V1Doc {
  notsotuf_private_key: unknown;
  keytype: string;
  keyid: string;
  keyval: { public: string };
  kdf?: { salt: string };
  cipher: { name: string; iv: string; tag: string };
  ciphertext: string;
  extra?: unknown;
}

function newKey() {
  const { publicHex, privateKey } = generateEd25519();
  return {
    publicHex,
    privateKey,
    keyid: computeKeyId({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } }),
  };
}

describe('legacy plain key files (tufup fixture keystore)', () => {
  for (const [name, keyid] of Object.entries(FIXTURE_KEYIDS)) {
    it(`loads ${name} with the README keyid, matching its .pub`, async () => {
      const text = await fixtureText(name);
      assert.equal(detectPrivateKeyFormat(text), 'legacy-plain');
      assert.equal(isEncryptedKeyFile(text), false);
      const key = await decodePrivateKeyFile(text, { path: name });
      assert.equal(key.format, 'legacy-plain');
      assert.equal(key.keyid, keyid);
      assert.equal(seedHexOf(key.privateKey), JSON.parse(text).keyval.private);
      const pub = parsePublicKeyFile(await fixtureText(`${name}.pub`), `${name}.pub`);
      assert.equal(pub.keyid, keyid);
      assert.equal(key.publicHex, pub.publicHex);
      // Our unencrypted writer produces exactly what tufup wrote.
      assert.equal(await encodePrivateKeyFile(key), text);
    });
  }

  it('signs with root1 so that node:crypto verifies against the .pub key', async () => {
    const key = await decodePrivateKeyFile(await fixtureText('root1'), { path: 'root1' });
    const pub = parsePublicKeyFile(await fixtureText('root1.pub'), 'root1.pub');
    const data = Buffer.from('{"signed":"anything"}');
    const sig = signHex(key.privateKey, data);
    assert.ok(verify(null, data, publicKeyFromHex(pub.publicHex), Buffer.from(sig, 'hex')));
    assert.ok(!verify(null, Buffer.from('other'), publicKeyFromHex(pub.publicHex), Buffer.from(sig, 'hex')));
  });

  it('keeps the stored keyid as is, without recomputing it', async () => {
    const doc = JSON.parse(await fixtureText('targets'));
    doc.keyid = 'ab'.repeat(32);
    const key = await decodePrivateKeyFile(JSON.stringify(doc), { path: 'targets' });
    assert.equal(key.keyid, 'ab'.repeat(32));
  });

  it('rejects a file whose seed does not produce its public key', async () => {
    const doc = JSON.parse(await fixtureText('targets'));
    doc.keyval.public = JSON.parse(await fixtureText('root1')).keyval.public;
    await assert.rejects(
      decodePrivateKeyFile(JSON.stringify(doc), { path: 'p' }),
      rejectsWith('KEY_INVALID'),
    );
  });

  it('rejects other key types and malformed fields', async () => {
    const base = JSON.parse(await fixtureText('targets'));
    const variants = [
      { ...base, keytype: 'rsa' },
      { ...base, scheme: 'rsassa-pss-sha256' },
      { ...base, keyid: 42 },
      { ...base, keyid: undefined },
      { ...base, keyval: { public: base.keyval.public } },
      { ...base, keyval: { ...base.keyval, private: base.keyval.private.toUpperCase() } },
      { ...base, extra: true },
    ];
    for (const doc of variants) {
      await assert.rejects(
        decodePrivateKeyFile(JSON.stringify(doc), { path: 'p' }),
        rejectsWith('KEY_INVALID'),
      );
    }
  });
});

describe('legacy encrypted key files (securesystemslib format)', () => {
  const encPath = join(LEGACY_KEYS_DIR, 'targets.enc');
  const enc = () => readFile(encPath, 'utf8');

  it('decrypts the vector made by the independent Python implementation', async () => {
    const text = await enc();
    assert.equal(detectPrivateKeyFormat(text), 'legacy-encrypted');
    assert.equal(isEncryptedKeyFile(text), true);
    const key = await decodePrivateKeyFile(text, { path: encPath, passphrase: 'correct horse' });
    assert.equal(key.format, 'legacy-encrypted');
    assert.equal(key.keyid, FIXTURE_KEYIDS['targets']);
    assert.equal(seedHexOf(key.privateKey), TARGETS_SEED);
  });

  it('decrypts with a non-ASCII passphrase and a non-default iteration count', async () => {
    const text = await readFile(join(LEGACY_KEYS_DIR, 'targets-utf8.enc'), 'utf8');
    const key = await decodePrivateKeyFile(text, {
      path: 'targets-utf8.enc',
      passphrase: 'p\u00e4ssw\u00f6rd \u{1f511}',
    });
    assert.equal(key.keyid, FIXTURE_KEYIDS['targets']);
    assert.equal(seedHexOf(key.privateKey), TARGETS_SEED);
  });

  it('tolerates a trailing newline (an edited file)', async () => {
    const key = await decodePrivateKeyFile(`${await enc()}\n`, {
      path: encPath,
      passphrase: 'correct horse',
    });
    assert.equal(key.keyid, FIXTURE_KEYIDS['targets']);
  });

  it('fails with KEY_DECRYPT_FAILED on a wrong passphrase', async () => {
    await assert.rejects(
      decodePrivateKeyFile(await enc(), { path: encPath, passphrase: 'correct horsf' }),
      (e) => isNotsotufError(e, 'KEY_DECRYPT_FAILED') && e.path === encPath && typeof e.hint === 'string',
    );
  });

  it('fails with PASSPHRASE_REQUIRED without a passphrase', async () => {
    await assert.rejects(
      decodePrivateKeyFile(await enc(), { path: encPath }),
      rejectsWith('PASSPHRASE_REQUIRED'),
    );
  });

  it('detects a flipped ciphertext byte or HMAC byte through the HMAC', async () => {
    const fields = (await enc()).split('@@@@');
    for (const index of [2, 4]) {
      const tampered = [...fields];
      const hex = tampered[index]!;
      tampered[index] =
        `${hex.slice(0, 10)}${((Number.parseInt(hex[10]!, 16) ^ 1) & 15).toString(16)}${hex.slice(11)}`;
      await assert.rejects(
        decodePrivateKeyFile(tampered.join('@@@@'), { path: encPath, passphrase: 'correct horse' }),
        rejectsWith('KEY_DECRYPT_FAILED'),
      );
    }
  });

  it('rejects absurd iteration counts as KEY_INVALID without running PBKDF2', async () => {
    const fields = (await enc()).split('@@@@');
    for (const iterations of ['999999999999', '10000001', '0', '-5', '1e6', '', '+100000']) {
      const started = Date.now();
      const text = [fields[0], iterations, ...fields.slice(2)].join('@@@@');
      await assert.rejects(
        decodePrivateKeyFile(text, { path: encPath, passphrase: 'correct horse' }),
        rejectsWith('KEY_INVALID'),
      );
      assert.ok(Date.now() - started < 1000, `iterations ${iterations} took too long`);
    }
  });

  it('rejects malformed layouts as KEY_INVALID', async () => {
    const fields = (await enc()).split('@@@@');
    const variants = [
      fields.slice(0, 4).join('@@@@'),
      [...fields, 'aa'].join('@@@@'),
      ['zz', ...fields.slice(1)].join('@@@@'),
      [...fields.slice(0, 3), 'abcd', fields[4]].join('@@@@'), // IV not 16 bytes
      [...fields.slice(0, 2), 'abcd', ...fields.slice(3)].join('@@@@'), // HMAC not 32 bytes
      [...fields.slice(0, 4), 'abc'].join('@@@@'), // odd hex
    ];
    for (const text of variants) {
      await assert.rejects(
        decodePrivateKeyFile(text, { path: encPath, passphrase: 'correct horse' }),
        rejectsWith('KEY_INVALID'),
      );
    }
  });
});

describe('notsotuf-v1 encrypted key files', () => {
  it('round-trips a key and never stores the seed in clear', async () => {
    const key = newKey();
    const text = await encodePrivateKeyFile(key, { passphrase: 'hunter2', scryptN: TEST_SCRYPT_N });
    assert.ok(!text.includes(seedHexOf(key.privateKey)));
    assert.ok(!text.includes(Buffer.from(seedHexOf(key.privateKey), 'hex').toString('base64')));
    assert.equal(detectPrivateKeyFormat(text), 'notsotuf-v1');
    assert.equal(isEncryptedKeyFile(text), true);
    const doc = JSON.parse(text);
    assert.equal(doc.notsotuf_private_key, 1);
    assert.deepEqual(doc.kdf.N, TEST_SCRYPT_N);
    assert.equal(doc.keyid, key.keyid);
    const back = await decodePrivateKeyFile(text, { path: 'k', passphrase: 'hunter2' });
    assert.equal(back.format, 'notsotuf-v1');
    assert.equal(back.keyid, key.keyid);
    assert.equal(back.publicHex, key.publicHex);
    assert.equal(seedHexOf(back.privateKey), seedHexOf(key.privateKey));
  });

  it('uses scrypt N = 2^17 by default', async () => {
    const key = newKey();
    const text = await encodePrivateKeyFile(key, { passphrase: 'pw' });
    assert.deepEqual(JSON.parse(text).kdf, {
      ...JSON.parse(text).kdf,
      name: 'scrypt',
      N: 131072,
      r: 8,
      p: 1,
    });
    const back = await decodePrivateKeyFile(text, { path: 'k', passphrase: 'pw' });
    assert.equal(back.keyid, key.keyid);
  });

  it('fails with KEY_DECRYPT_FAILED on a wrong passphrase', async () => {
    const text = await encodePrivateKeyFile(newKey(), { passphrase: 'right', scryptN: TEST_SCRYPT_N });
    await assert.rejects(
      decodePrivateKeyFile(text, { path: '/k', passphrase: 'wrong' }),
      (e) => isNotsotufError(e, 'KEY_DECRYPT_FAILED') && e.path === '/k' && typeof e.hint === 'string',
    );
  });

  it('fails with PASSPHRASE_REQUIRED without a passphrase', async () => {
    const text = await encodePrivateKeyFile(newKey(), { passphrase: 'pw', scryptN: TEST_SCRYPT_N });
    await assert.rejects(decodePrivateKeyFile(text, { path: 'k' }), rejectsWith('PASSPHRASE_REQUIRED'));
  });

  it('detects a swapped public key or keyid, and tampered ciphertext or tag', async () => {
    const text = await encodePrivateKeyFile(newKey(), { passphrase: 'pw', scryptN: TEST_SCRYPT_N });
    const other = newKey();
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[0] = buf[0]! ^ 1;
      return buf.toString('base64');
    };
    const edits: Array<(doc: V1Doc) => void> = [
      (doc) => {
        doc.keyval.public = other.publicHex;
      },
      (doc) => {
        doc.keyval.public = other.publicHex;
        doc.keyid = other.keyid;
      },
      (doc) => {
        doc.keyid = other.keyid;
      },
      (doc) => {
        doc.ciphertext = flip(doc.ciphertext);
      },
      (doc) => {
        doc.cipher.tag = flip(doc.cipher.tag);
      },
      (doc) => {
        doc.cipher.iv = flip(doc.cipher.iv);
      },
      (doc) => {
        doc.kdf!.salt = flip(doc.kdf!.salt);
      },
    ];
    for (const edit of edits) {
      const doc = JSON.parse(text);
      edit(doc);
      await assert.rejects(
        decodePrivateKeyFile(JSON.stringify(doc), { path: 'k', passphrase: 'pw' }),
        (e) => isNotsotufError(e, 'KEY_DECRYPT_FAILED') || isNotsotufError(e, 'KEY_INVALID'),
      );
    }
  });

  it('rejects scrypt parameters outside the allowed range as KEY_INVALID, before deriving', async () => {
    const text = await encodePrivateKeyFile(newKey(), { passphrase: 'pw', scryptN: TEST_SCRYPT_N });
    const kdfs = [
      { N: 2 ** 13 },
      { N: 2 ** 21 },
      { N: 2 ** 40 },
      { N: 3 * 2 ** 14 },
      { N: 16384.5 },
      { N: '16384' },
      { r: 16 },
      { p: 2 },
      { name: 'pbkdf2' },
    ];
    for (const change of kdfs) {
      const doc = JSON.parse(text);
      doc.kdf = { ...doc.kdf, ...change };
      const started = Date.now();
      await assert.rejects(
        decodePrivateKeyFile(JSON.stringify(doc), { path: 'k', passphrase: 'pw' }),
        rejectsWith('KEY_INVALID'),
      );
      assert.ok(Date.now() - started < 1000);
    }
  });

  it('rejects unknown versions, ciphers and malformed fields as KEY_INVALID', async () => {
    const text = await encodePrivateKeyFile(newKey(), { passphrase: 'pw', scryptN: TEST_SCRYPT_N });
    const edits: Array<(doc: V1Doc) => void> = [
      (doc) => {
        doc.notsotuf_private_key = 2;
      },
      (doc) => {
        doc.cipher.name = 'aes-128-gcm';
      },
      (doc) => {
        doc.cipher.iv = 'AAAA';
      },
      (doc) => {
        doc.ciphertext = `${doc.ciphertext}!`;
      },
      (doc) => {
        doc.keytype = 'rsa';
      },
      (doc) => {
        doc.extra = 1;
      },
      (doc) => {
        delete doc.kdf;
      },
    ];
    for (const edit of edits) {
      const doc = JSON.parse(text);
      edit(doc);
      await assert.rejects(
        decodePrivateKeyFile(JSON.stringify(doc), { path: 'k', passphrase: 'pw' }),
        rejectsWith('KEY_INVALID'),
      );
    }
  });

  it('refuses to encode bad input', async () => {
    const key = newKey();
    await assert.rejects(encodePrivateKeyFile(key, { passphrase: '' }), rejectsWith('PASSPHRASE_REQUIRED'));
    for (const scryptN of [1024, 3 * 2 ** 14, 2 ** 21]) {
      await assert.rejects(
        encodePrivateKeyFile(key, { passphrase: 'pw', scryptN }),
        rejectsWith('INVALID_ARGUMENT'),
      );
    }
    await assert.rejects(
      encodePrivateKeyFile(
        { ...key, publicHex: newKey().publicHex },
        { passphrase: 'pw', scryptN: TEST_SCRYPT_N },
      ),
      rejectsWith('KEY_INVALID'),
    );
    await assert.rejects(encodePrivateKeyFile({ ...key, keyid: 'not-hex' }), rejectsWith('KEY_INVALID'));
  });
});

describe('unrecognised input', () => {
  for (const text of [
    '',
    'hello',
    '{}',
    '[1]',
    'null',
    '{"notsotuf_private_key": 1}',
    'a@@@@b',
    '{'.repeat(70000),
  ]) {
    it(`rejects ${JSON.stringify(text.slice(0, 30))} as KEY_INVALID`, async () => {
      await assert.rejects(
        decodePrivateKeyFile(text, { path: 'k', passphrase: 'pw' }),
        rejectsWith('KEY_INVALID'),
      );
    });
  }
});
