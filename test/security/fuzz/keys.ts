/**
 * Fuzzing of key files: public key files (src/tuf/public-key-file.ts), private key files in every format
 * (src/tuf/private-key-file.ts), and reading both from a keys directory (src/tuf/key-pair-files.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { publicHexOf, seedHexOf } from '../../../src/tuf/ed25519.js';
import { readPrivateKey, readPublicKey } from '../../../src/tuf/key-pair-files.js';
import { decodePrivateKeyFile, encodePrivateKeyFile } from '../../../src/tuf/private-key-file.js';
import { computeKeyId, parsePublicKeyFile } from '../../../src/tuf/public-key-file.js';
import {
  assertMemoryBounded,
  assertNoPrototypePollution,
  type ErrorExpectation,
  type FuzzArea,
  outcomeOf,
  outcomeOfSync,
} from './common.js';
import { hostileJsonText, objectText } from './hostile-json.js';

const KEYSTORE = fileURLToPath(new URL('../../fixtures/tufup-repo-v0.10/keystore/', import.meta.url));
const LEGACY_KEYS = fileURLToPath(new URL('../../fixtures/legacy-keys/', import.meta.url));
/** `targets-utf8.enc` (securesystemslib's encrypted format, 1000 PBKDF2 iterations) and its passphrase. */
const LEGACY_PASSPHRASE = 'p\u00e4ssw\u00f6rd \u{1F511}';
const V1_PASSPHRASE = 'correct horse \u{1F40E}';
const KEY_CODES: ErrorExpectation = { codes: ['KEY_INVALID', 'PASSPHRASE_REQUIRED', 'KEY_DECRYPT_FAILED'] };
/** A `.pub` file that is not JSON is KEY_INVALID wrapping JSON.parse's SyntaxError. */
const PUB_CODES: ErrorExpectation = { codes: ['KEY_INVALID'], foreignCause: true };
/** The key pairs of the fixture keystore (`<name>` and `<name>.pub`). */
const KEY_NAMES = ['root1', 'targets', 'snapshot', 'timestamp'];
const KEY_FIELDS = [
  'keytype',
  'scheme',
  'keyid',
  'keyid_hash_algorithms',
  'keyval',
  'public',
  'private',
  'notsotuf_private_key',
  'kdf',
  'cipher',
  'ciphertext',
  'N',
  'r',
  'p',
  'salt',
  'iv',
  'tag',
  'name',
];

interface KeyTexts {
  /** tufup's plain private key files. */
  plain: string[];
  pub: string[];
  legacyEncrypted: string;
  /** notsotuf-v1 of the fixture `targets` key, with V1_PASSPHRASE at the lowest scrypt cost. */
  v1: string;
  targetsSeed: string;
  targetsKeyid: string;
}

let keyTexts: Promise<KeyTexts> | undefined;

function loadKeyTexts(): Promise<KeyTexts> {
  keyTexts ??= (async () => {
    const plain = KEY_NAMES.map((n) => readFileSync(join(KEYSTORE, n), 'utf8'));
    const pub = KEY_NAMES.map((n) => readFileSync(join(KEYSTORE, `${n}.pub`), 'utf8'));
    const targets = await decodePrivateKeyFile(plain[1]!, { path: 'targets' });
    const v1 = await encodePrivateKeyFile(targets, { passphrase: V1_PASSPHRASE, scryptN: 2 ** 14 });
    return {
      plain,
      pub,
      legacyEncrypted: readFileSync(join(LEGACY_KEYS, 'targets-utf8.enc'), 'utf8'),
      v1,
      targetsSeed: seedHexOf(targets.privateKey),
      targetsKeyid: targets.keyid,
    };
  })();
  return keyTexts;
}

/** A decoded private key must be self-consistent: its seed yields the public key stored with it. */
function checkPrivateKey(k: Awaited<ReturnType<typeof decodePrivateKeyFile>>): void {
  assert.equal(publicHexOf(k.privateKey), k.publicHex);
  assert.ok(/^[0-9a-f]{64}$/.test(k.publicHex));
  assert.ok(/^[0-9a-f]{64}(?:[0-9a-f]{64})?$/.test(k.keyid));
  assert.ok(['notsotuf-v1', 'legacy-plain', 'legacy-encrypted'].includes(k.format));
}

/** An edit of a key file's text: a character replaced, a piece cut out, or a piece doubled. */
interface TextMutation {
  kind: 'char' | 'cut' | 'dup';
  at: number;
  ch?: string;
  length?: number;
}

const textMutation = fc.array<TextMutation>(
  fc.oneof(
    fc.record({
      kind: fc.constant('char' as const),
      at: fc.nat(),
      ch: fc.constantFrom(
        '0',
        'a',
        'f',
        'A',
        'g',
        '"',
        '{',
        '}',
        ',',
        ':',
        ' ',
        '@',
        '\\',
        '\u0000',
        'é',
        '1',
        '9',
      ),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

/** No edit at all (one in three), or a few. */
const maybeTextMutation = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constant<TextMutation[]>([]),
  },
  { weight: 2, arbitrary: textMutation },
);

function mutateText(text: string, ms: readonly TextMutation[]): string {
  let t = text;
  for (const m of ms) {
    const p = m.at % (t.length + 1);
    if (m.kind === 'char') t = t.slice(0, p) + m.ch! + t.slice(p + 1);
    else if (m.kind === 'cut') t = t.slice(0, p) + t.slice(p + m.length!);
    else t = t.slice(0, p) + t.slice(p, p + m.length!) + t.slice(p);
  }
  return t;
}

export const keyProperties: FuzzArea = ({ ws, scale }) => {
  const pubDoc = fc
    .array(
      fc.tuple(
        fc.constantFrom('keytype', 'scheme', 'keyval', 'keyid_hash_algorithms', 'keyid', '__proto__'),
        fc.oneof(
          fc.constantFrom(
            '"ed25519"',
            '"rsa"',
            '["sha256","sha512"]',
            '[1]',
            'null',
            `{"public":"${'ab'.repeat(32)}"}`,
            `{"public":"${'AB'.repeat(32)}"}`,
            `{"public":"${'ab'.repeat(32)}","private":"x"}`,
          ),
          hostileJsonText(KEY_FIELDS, scale),
        ),
      ),
      { maxLength: 5 },
    )
    .map(objectText);
  return [
    {
      name: 'public-key-file: parsePublicKeyFile on arbitrary text',
      testRuns: 300,
      weight: 1,
      property: fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          hostileJsonText(KEY_FIELDS, scale),
          pubDoc,
          fc
            .tuple(fc.constantFrom(0, 1, 2, 3), maybeTextMutation)
            .map(([i, ms]) => mutateText(readFileSync(join(KEYSTORE, `${KEY_NAMES[i]}.pub`), 'utf8'), ms)),
        ),
        (text) => {
          const r = outcomeOfSync(() => parsePublicKeyFile(text, 'fuzz.pub'), PUB_CODES);
          assertNoPrototypePollution();
          if (!r.ok) return;
          const doc = JSON.parse(text) as { keyval: { public: string }; keyid_hash_algorithms?: string[] };
          assert.equal(r.value.publicHex, doc.keyval.public);
          assert.ok(/^[0-9a-f]{64}$/.test(r.value.publicHex));
          assert.equal(
            r.value.keyid,
            computeKeyId({
              keytype: 'ed25519',
              scheme: 'ed25519',
              keyval: doc.keyval,
              ...(doc.keyid_hash_algorithms ? { keyid_hash_algorithms: doc.keyid_hash_algorithms } : {}),
            }),
          );
        },
      ),
    },
    {
      name: 'key-pair-files: readPublicKey and readPrivateKey on arbitrary file bytes',
      testRuns: 100,
      weight: 1,
      property: fc.asyncProperty(
        fc.oneof(
          { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }) },
          {
            weight: 1,
            arbitrary: fc
              .integer({ min: 64 * 1024 - 2, max: 64 * 1024 + 2 })
              .map((n) => new Uint8Array(n).fill(0x7b)),
          },
          {
            weight: 4,
            arbitrary: fc
              .tuple(fc.nat(), maybeTextMutation, fc.boolean())
              .map(([i, ms, bom]) => ({ i, ms, bom })),
          },
          { weight: 2, arbitrary: hostileJsonText(KEY_FIELDS, scale).map((t) => Buffer.from(t)) },
        ),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
        ),
        async (input, passphrase) => {
          const texts = await loadKeyTexts();
          let bytes: Uint8Array;
          if (input instanceof Uint8Array) bytes = input;
          else {
            const all = [...texts.plain, texts.legacyEncrypted, texts.v1, ...texts.pub];
            const base = all[input.i % all.length]!;
            bytes = Buffer.from((input.bom ? '\ufeff' : '') + mutateText(base, input.ms));
          }
          await ws.run('keyfiles', async (d) => {
            await writeFile(join(d, 'k'), bytes);
            await writeFile(join(d, 'k.pub'), bytes);
            const pub = await outcomeOf(() => readPublicKey(d, 'k'), PUB_CODES);
            if (pub.ok)
              assert.ok(/^[0-9a-f]{64}$/.test(pub.value.keyid) && /^[0-9a-f]{64}$/.test(pub.value.publicHex));
            const priv = await outcomeOf(() => readPrivateKey(d, 'k', passphrase), KEY_CODES);
            if (priv.ok) checkPrivateKey(priv.value);
          });
          assertNoPrototypePollution();
          assertMemoryBounded();
        },
      ),
    },
    {
      name: 'private-key-file: wrong passphrases and tampered encrypted keys never decrypt to another key',
      testRuns: 16,
      weight: 0.05,
      property: fc.asyncProperty(
        fc.constantFrom('notsotuf-v1' as const, 'legacy-encrypted' as const),
        fc.oneof(
          { weight: 2, arbitrary: fc.constant('<correct>') },
          { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              '',
              ' ',
              'p\u00e4ssw\u00f6rd',
              'pa\u0308ssw\u00f6rd \u{1F511}',
              'correct horse',
              'correct horse \u{1F40E} ',
            ),
          },
        ),
        maybeTextMutation,
        async (format, pass, ms) => {
          const texts = await loadKeyTexts();
          const [original, correct] =
            format === 'notsotuf-v1' ? [texts.v1, V1_PASSPHRASE] : [texts.legacyEncrypted, LEGACY_PASSPHRASE];
          const passphrase = pass === '<correct>' ? correct : pass;
          const text = ms.length === 0 ? original : mutateText(original, ms);
          const r = await outcomeOf(
            () => decodePrivateKeyFile(text, { path: 'fuzz', passphrase }),
            KEY_CODES,
          );
          if (r.ok) {
            checkPrivateKey(r.value);
            // Both formats authenticate what they decrypt: success means the very same key.
            assert.equal(passphrase, correct, 'only the right passphrase decrypts');
            assert.equal(seedHexOf(r.value.privateKey), texts.targetsSeed);
            assert.equal(r.value.keyid, texts.targetsKeyid);
          } else if (text === original) {
            assert.notEqual(
              passphrase,
              correct,
              `the intact file with its passphrase was refused: ${r.error.message}`,
            );
            assert.equal(r.error.code, 'KEY_DECRYPT_FAILED', 'a wrong passphrase is reported as such');
          }
          assertMemoryBounded();
        },
      ),
    },
  ];
};
