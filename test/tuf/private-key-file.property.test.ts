import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NotsotufError } from '../../src/core/errors.js';
import { decodePrivateKeyFile } from '../../src/tuf/private-key-file.js';
import { TEST_SCRYPT_N } from './fixture-keys.js';

/** Resolves, or rejects with a NotsotufError: never a raw error of another kind. */
async function decodeNeverThrowsForeign(text: string, passphrase: string | undefined): Promise<void> {
  try {
    await decodePrivateKeyFile(text, { path: 'fuzz', passphrase });
  } catch (err) {
    assert.ok(err instanceof NotsotufError, `foreign error: ${String(err)}`);
  }
}

const hex = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));
const maybePassphrase = fc.option(fc.string({ maxLength: 8 }), { nil: undefined });

/** Values shaped like the fields of our key files, so the fuzzer gets past the first checks. */
const fieldValue = fc.oneof(
  fc.constantFrom('ed25519', 'scrypt', 'aes-256-gcm', 1, 8, TEST_SCRYPT_N, null, true),
  fc.integer(),
  fc.double(),
  fc.string(),
  hex(0, 33),
  fc.uint8Array({ maxLength: 33 }).map((b) => Buffer.from(b).toString('base64')),
  fc.array(fc.string(), { maxLength: 3 }),
);
const keyval = fc.record(
  { public: fc.oneof(fieldValue, hex(32, 32)), private: fc.oneof(fieldValue, hex(32, 32)) },
  { requiredKeys: [] },
);

describe('decodePrivateKeyFile on arbitrary input', () => {
  it('never fails with anything but a NotsotufError on arbitrary strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), maybePassphrase, decodeNeverThrowsForeign),
      {
        numRuns: 500,
      },
    );
  });

  it('never fails with anything but a NotsotufError on arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json(), maybePassphrase, (text, pw) => decodeNeverThrowsForeign(text, pw)),
      { numRuns: 500 },
    );
  });

  it('never fails with anything but a NotsotufError on legacy-looking key objects', async () => {
    const doc = fc.record(
      {
        keytype: fieldValue,
        scheme: fieldValue,
        keyid: fc.oneof(fieldValue, hex(32, 32)),
        keyid_hash_algorithms: fieldValue,
        keyval: fc.oneof(keyval, fieldValue),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(doc, maybePassphrase, (d, pw) => decodeNeverThrowsForeign(JSON.stringify(d), pw)),
      { numRuns: 500 },
    );
  });

  it('never fails with anything but a NotsotufError on notsotuf-v1-looking documents', async () => {
    const doc = fc.record(
      {
        notsotuf_private_key: fc.oneof(fc.constant(1), fieldValue),
        keytype: fc.oneof(fc.constant('ed25519'), fieldValue),
        scheme: fc.oneof(fc.constant('ed25519'), fieldValue),
        keyid: fc.oneof(fieldValue, hex(32, 32)),
        keyval: fc.oneof(keyval, fieldValue),
        kdf: fc.oneof(
          fieldValue,
          fc.record(
            { name: fieldValue, N: fieldValue, r: fieldValue, p: fieldValue, salt: fieldValue },
            { requiredKeys: [] },
          ),
        ),
        cipher: fc.oneof(
          fieldValue,
          fc.record({ name: fieldValue, iv: fieldValue, tag: fieldValue }, { requiredKeys: [] }),
        ),
        ciphertext: fieldValue,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(doc, maybePassphrase, (d, pw) => decodeNeverThrowsForeign(JSON.stringify(d), pw)),
      { numRuns: 300 },
    );
  });

  it('never fails with anything but a NotsotufError on legacy-encrypted-looking text', async () => {
    const field = fc.oneof(
      hex(0, 40),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('1', '1000', '0', '10000001'),
    );
    const text = fc.array(field, { minLength: 4, maxLength: 6 }).map((parts) => parts.join('@@@@'));
    await fc.assert(fc.asyncProperty(text, maybePassphrase, decodeNeverThrowsForeign), { numRuns: 300 });
  });
});
