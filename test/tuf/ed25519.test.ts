import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  generateEd25519,
  privateKeyFromSeed,
  publicHexOf,
  publicKeyFromHex,
  seedHexOf,
  signHex,
} from '../../src/tuf/ed25519.js';

// RFC 8032, section 7.1, TEST 1.
const RFC_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIG_EMPTY =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

describe('ed25519', () => {
  it('loads a seed and derives the public key (RFC 8032 test 1)', () => {
    const key = privateKeyFromSeed(RFC_SEED);
    assert.equal(publicHexOf(key), RFC_PUBLIC);
    assert.equal(seedHexOf(key), RFC_SEED);
    assert.equal(signHex(key, new Uint8Array()), RFC_SIG_EMPTY);
  });

  it('generates keys whose signatures verify', () => {
    const { publicHex, privateKey } = generateEd25519();
    assert.match(publicHex, /^[0-9a-f]{64}$/);
    assert.equal(publicHexOf(privateKey), publicHex);
    assert.equal(publicHexOf(privateKeyFromSeed(seedHexOf(privateKey))), publicHex);
    const data = Buffer.from('hello');
    const sig = signHex(privateKey, data);
    assert.match(sig, /^[0-9a-f]{128}$/);
    assert.ok(verify(null, data, publicKeyFromHex(publicHex), Buffer.from(sig, 'hex')));
    assert.equal(publicHexOf(publicKeyFromHex(publicHex)), publicHex);
  });

  it('rejects malformed seeds and public keys as KEY_INVALID', () => {
    for (const bad of ['', 'zz', RFC_SEED.toUpperCase(), `${RFC_SEED}00`, RFC_SEED.slice(2)]) {
      assert.throws(
        () => privateKeyFromSeed(bad),
        (e) => isNotsotufError(e, 'KEY_INVALID'),
      );
      assert.throws(
        () => publicKeyFromHex(bad),
        (e) => isNotsotufError(e, 'KEY_INVALID'),
      );
    }
  });

  it('rejects keys of other types', () => {
    const { privateKey } = generateKeyPairSync('ed448');
    assert.throws(
      () => publicHexOf(privateKey),
      (e) => isNotsotufError(e, 'KEY_INVALID'),
    );
    assert.throws(
      () => seedHexOf(publicKeyFromHex(RFC_PUBLIC)),
      (e) => isNotsotufError(e, 'KEY_INVALID'),
    );
  });
});
