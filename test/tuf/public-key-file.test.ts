import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { computeKeyId, parsePublicKeyFile, serializePublicKey } from '../../src/tuf/public-key-file.js';
import { FIXTURE_KEYIDS, KEYSTORE_DIR } from './fixture-keys.js';

const PUB = '85ba7ca95d875ee20c2ae2b245945b26b87694570dfba1556074c30829e8d130';

describe('public key files', () => {
  for (const [name, keyid] of Object.entries(FIXTURE_KEYIDS)) {
    it(`computes tufup's keyid for ${name}.pub and reproduces the file byte for byte`, async () => {
      const path = join(KEYSTORE_DIR, `${name}.pub`);
      const text = await readFile(path, 'utf8');
      const info = parsePublicKeyFile(text, path);
      assert.equal(info.keyid, keyid);
      assert.equal(info.keytype, 'ed25519');
      assert.equal(info.scheme, 'ed25519');
      assert.equal(serializePublicKey(info.publicHex, { legacy: true }), text);
    });
  }

  it('writes our form without keyid_hash_algorithms, and its keyid is sha256 of {keytype, scheme, keyval}', () => {
    const text = serializePublicKey(PUB);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: PUB } });
    const info = parsePublicKeyFile(text, 'x.pub');
    assert.equal(info.publicHex, PUB);
    assert.equal(
      info.keyid,
      computeKeyId({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: PUB } }),
    );
    assert.notEqual(info.keyid, FIXTURE_KEYIDS['root1']);
    // Independent check of the canonical form: sorted keys, no whitespace.
    const canonical = `{"keytype":"ed25519","keyval":{"public":"${PUB}"},"scheme":"ed25519"}`;
    assert.equal(info.keyid, createHash('sha256').update(canonical).digest('hex'));
  });

  const bad: Record<string, string> = {
    'not JSON': 'nope',
    'an array': '[]',
    'rsa key': JSON.stringify({ keytype: 'rsa', scheme: 'ed25519', keyval: { public: PUB } }),
    'other scheme': JSON.stringify({ keytype: 'ed25519', scheme: 'ecdsa', keyval: { public: PUB } }),
    'upper-case hex': JSON.stringify({
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyval: { public: PUB.toUpperCase() },
    }),
    'short key': JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: PUB.slice(2) } }),
    'a private part': JSON.stringify({
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyval: { public: PUB, private: PUB },
    }),
    'an unknown field': JSON.stringify({
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyid: 'x',
      keyval: { public: PUB },
    }),
    'bad hash algorithms': JSON.stringify({
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyid_hash_algorithms: 'sha256',
      keyval: { public: PUB },
    }),
  };
  for (const [what, text] of Object.entries(bad)) {
    it(`rejects a .pub file with ${what} as KEY_INVALID with path and hint`, () => {
      assert.throws(
        () => parsePublicKeyFile(text, '/keys/k.pub'),
        (e) => isNotsotufError(e, 'KEY_INVALID') && e.path === '/keys/k.pub' && typeof e.hint === 'string',
      );
    });
  }
});
