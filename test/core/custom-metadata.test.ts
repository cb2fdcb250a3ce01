import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildArchiveCustom,
  buildPatchCustom,
  parseTargetCustom,
  type TargetCustom,
} from '../../src/core/custom-metadata.js';
import { isNotsotufError } from '../../src/core/errors.js';

const HASH = '797bc02b26cdc9d8084ea527964a3575415bc707aca3f4cdf3e7f64f16588b61';

// Verbatim `custom` objects from the tufup 0.10 fixture (tufup-repo-v0.10/repository/metadata/targets.json).
const FIXTURE = {
  'example_app-1.0.tar.gz': { tufup: { required: false }, user: { changes: ['first release'] } },
  'example_app-2.0.patch': {
    tufup: {
      tar_hash: '797bc02b26cdc9d8084ea527964a3575415bc707aca3f4cdf3e7f64f16588b61',
      tar_hash_algorithm: 'sha256',
      tar_size: 71680,
    },
    user: null,
  },
  'example_app-2.0.tar.gz': {
    tufup: { required: true },
    user: { changes: ['new settings file format (schema 2)', 'settings are migrated on first start'] },
  },
  'example_app-3.0.tar.gz': { tufup: { required: false }, user: null },
  'example_app-3.0rc1.patch': {
    tufup: {
      tar_hash: 'daf678e8e6519a35e408498a899b47befb0a3d27b602c0b22ef4f9868ee46ef5',
      tar_hash_algorithm: 'sha256',
      tar_size: 81920,
    },
    user: null,
  },
} as const;

describe('buildArchiveCustom', () => {
  const cases: { name: string; input: Parameters<typeof buildArchiveCustom>[0]; expected: unknown }[] = [
    {
      name: 'matches the fixture (2.0)',
      input: { user: FIXTURE['example_app-2.0.tar.gz'].user, required: true },
      expected: FIXTURE['example_app-2.0.tar.gz'],
    },
    {
      name: 'no user metadata gives null',
      input: { required: false },
      expected: FIXTURE['example_app-3.0.tar.gz'],
    },
    {
      name: 'with tar facts',
      input: {
        user: { a: [1, 'x', true, null] },
        required: false,
        tarSize: 1024,
        tarHash: HASH.toUpperCase(),
      },
      expected: {
        user: { a: [1, 'x', true, null] },
        tufup: { required: false, notsotuf: { tar_size: 1024, tar_hash: HASH } },
      },
    },
    {
      name: 'scalar user metadata',
      input: { user: 'note', required: false },
      expected: { user: 'note', tufup: { required: false } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(buildArchiveCustom(c.input), c.expected));
  }

  it('copies user metadata', () => {
    const user = { changes: ['a'] };
    const custom = buildArchiveCustom({ user, required: false });
    user.changes.push('b');
    assert.deepEqual(custom.user, { changes: ['a'] });
  });

  it('keeps a __proto__ key as plain data', () => {
    const user = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    const custom = buildArchiveCustom({ user, required: false });
    assert.equal(JSON.stringify(custom.user), '{"__proto__":{"polluted":1}}');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  class NotPlain {
    x = 1;
  }
  const errors: { name: string; input: Parameters<typeof buildArchiveCustom>[0]; reason: RegExp }[] = [
    { name: 'float', input: { user: { n: 1.5 }, required: false }, reason: /user\.n is 1\.5/ },
    { name: 'NaN', input: { user: [Number.NaN], required: false }, reason: /user\[0\]/ },
    {
      name: 'undefined value',
      input: { user: { a: undefined }, required: false },
      reason: /user\.a is undefined/,
    },
    { name: 'function', input: { user: { f: () => 1 }, required: false }, reason: /a function/ },
    { name: 'bigint', input: { user: 1n, required: false }, reason: /a bigint/ },
    {
      name: 'class instance',
      input: { user: new NotPlain(), required: false },
      reason: /not a plain object/,
    },
    {
      name: 'date',
      input: { user: { d: new Date(0) }, required: false },
      reason: /user\.d is not a plain object/,
    },
    { name: 'size without hash', input: { required: false, tarSize: 1 }, reason: /together/ },
    { name: 'negative size', input: { required: false, tarSize: -1, tarHash: HASH }, reason: /tarSize/ },
    { name: 'short hash', input: { required: false, tarSize: 1, tarHash: 'abc' }, reason: /64 hex/ },
    { name: 'required not boolean', input: { required: 'yes' as unknown as boolean }, reason: /required/ },
  ];
  for (const c of errors) {
    it(`rejects ${c.name}`, () => {
      assert.throws(
        () => buildArchiveCustom(c.input),
        (err: unknown) => isNotsotufError(err, 'INVALID_ARGUMENT') && c.reason.test(err.message),
      );
    });
  }

  it('rejects cyclic user metadata', () => {
    const user: Record<string, unknown> = {};
    user['self'] = user;
    assert.throws(() => buildArchiveCustom({ user, required: false }), { code: 'INVALID_ARGUMENT' });
  });
});

describe('buildPatchCustom', () => {
  const cases: { name: string; input: Parameters<typeof buildPatchCustom>[0]; expected: unknown }[] = [
    {
      name: 'matches the fixture (2.0 patch)',
      input: { tarSize: 71680, tarHash: HASH },
      expected: FIXTURE['example_app-2.0.patch'],
    },
    {
      name: 'with codec',
      input: { tarSize: 0, tarHash: HASH, codec: 'bsdiff4' },
      expected: {
        user: null,
        tufup: { tar_size: 0, tar_hash: HASH, tar_hash_algorithm: 'sha256', notsotuf: { patch: 'bsdiff4' } },
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(buildPatchCustom(c.input), c.expected));
  }

  const errors: { name: string; input: Parameters<typeof buildPatchCustom>[0] }[] = [
    { name: 'fractional size', input: { tarSize: 1.5, tarHash: HASH } },
    { name: 'unsafe size', input: { tarSize: 2 ** 53, tarHash: HASH } },
    { name: 'non-hex hash', input: { tarSize: 1, tarHash: 'z'.repeat(64) } },
    { name: 'bad codec', input: { tarSize: 1, tarHash: HASH, codec: 'Bs Diff' } },
    { name: 'empty codec', input: { tarSize: 1, tarHash: HASH, codec: '' } },
  ];
  for (const c of errors) {
    it(`rejects ${c.name}`, () =>
      assert.throws(() => buildPatchCustom(c.input), { code: 'INVALID_ARGUMENT' }));
  }
});

describe('parseTargetCustom', () => {
  const cases: { name: string; input: unknown; expected: TargetCustom }[] = [
    {
      name: 'fixture archive 1.0',
      input: FIXTURE['example_app-1.0.tar.gz'],
      expected: { user: { changes: ['first release'] }, required: false },
    },
    {
      name: 'fixture archive 2.0 (required)',
      input: FIXTURE['example_app-2.0.tar.gz'],
      expected: { user: FIXTURE['example_app-2.0.tar.gz'].user, required: true },
    },
    {
      name: 'fixture archive 3.0 (null user)',
      input: FIXTURE['example_app-3.0.tar.gz'],
      expected: { user: null, required: false },
    },
    {
      name: 'fixture patch 3.0rc1',
      input: FIXTURE['example_app-3.0rc1.patch'],
      expected: {
        user: null,
        required: false,
        tarSize: 81920,
        tarHash: 'daf678e8e6519a35e408498a899b47befb0a3d27b602c0b22ef4f9868ee46ef5',
        tarHashAlgorithm: 'sha256',
      },
    },
    { name: 'null', input: null, expected: { user: null, required: false } },
    { name: 'undefined', input: undefined, expected: { user: null, required: false } },
    { name: 'empty object', input: {}, expected: { user: null, required: false } },
    { name: 'user only', input: { user: [1, 2] }, expected: { user: [1, 2], required: false } },
    {
      name: 'null tufup part',
      input: { user: null, tufup: null },
      expected: { user: null, required: false },
    },
    {
      name: 'notsotuf archive part inside tufup (current shape)',
      input: { user: null, tufup: { required: true, notsotuf: { tar_size: 10, tar_hash: HASH } } },
      expected: { user: null, required: true, tarSize: 10, tarHash: HASH },
    },
    {
      name: 'notsotuf archive part beside tufup (shape of earlier notsotuf versions)',
      input: { user: null, tufup: { required: true }, notsotuf: { tar_size: 10, tar_hash: HASH } },
      expected: { user: null, required: true, tarSize: 10, tarHash: HASH },
    },
    {
      name: 'earlier patch shape: codec beside tufup',
      input: {
        user: null,
        tufup: { tar_size: 5, tar_hash: HASH, tar_hash_algorithm: 'sha256' },
        notsotuf: { patch: 'notsotuf' },
      },
      expected: {
        user: null,
        required: false,
        tarSize: 5,
        tarHash: HASH,
        tarHashAlgorithm: 'sha256',
        patchCodec: 'notsotuf',
      },
    },
    {
      name: 'both places agreeing',
      input: {
        user: null,
        tufup: { required: false, notsotuf: { tar_size: 10, tar_hash: HASH } },
        notsotuf: { tar_size: 10 },
      },
      expected: { user: null, required: false, tarSize: 10, tarHash: HASH },
    },
    {
      name: 'notsotuf patch codec',
      input: { ...buildPatchCustom({ tarSize: 5, tarHash: HASH, codec: 'bsdiff4' }) },
      expected: {
        user: null,
        required: false,
        tarSize: 5,
        tarHash: HASH,
        tarHashAlgorithm: 'sha256',
        patchCodec: 'bsdiff4',
      },
    },
    {
      name: 'unknown keys inside the parts are ignored',
      input: { user: null, tufup: { required: true, future: 1 }, notsotuf: { future: 'x' } },
      expected: { user: null, required: true },
    },
    {
      name: 'uppercase hash is lowercased',
      input: { tufup: { tar_size: 1, tar_hash: HASH.toUpperCase() } },
      expected: { user: null, required: false, tarSize: 1, tarHash: HASH },
    },
    {
      name: 'sha512 hash',
      input: { tufup: { tar_size: 1, tar_hash: 'ab'.repeat(64), tar_hash_algorithm: 'sha512' } },
      expected: {
        user: null,
        required: false,
        tarSize: 1,
        tarHash: 'ab'.repeat(64),
        tarHashAlgorithm: 'sha512',
      },
    },
    {
      name: 'legacy flat user + required',
      input: { changes: ['x'], required: true },
      expected: { user: { changes: ['x'], required: true }, required: true },
    },
    {
      name: 'legacy flat tar_hash',
      input: { tar_hash: HASH },
      expected: { user: { tar_hash: HASH }, required: false, tarHash: HASH },
    },
    {
      name: 'legacy flat patch facts',
      input: { tar_size: 7, tar_hash: HASH, tar_hash_algorithm: 'sha256' },
      expected: {
        user: { tar_size: 7, tar_hash: HASH, tar_hash_algorithm: 'sha256' },
        required: false,
        tarSize: 7,
        tarHash: HASH,
        tarHashAlgorithm: 'sha256',
      },
    },
    {
      name: 'legacy: one extra key makes the whole object user metadata',
      input: { user: 1, tufup: { required: true }, extra: true },
      expected: { user: { user: 1, tufup: { required: true }, extra: true }, required: false },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseTargetCustom(c.input, 'app-1.0.tar.gz'), c.expected));
  }

  it('reads every fixture custom object', () => {
    for (const [name, custom] of Object.entries(FIXTURE)) {
      const parsed = parseTargetCustom(custom, name);
      assert.equal(parsed.tarSize !== undefined, name.endsWith('.patch'));
    }
  });

  const errors: { name: string; input: unknown; reason: RegExp }[] = [
    { name: 'array', input: [], reason: /custom must be an object/ },
    { name: 'string', input: 'x', reason: /custom must be an object/ },
    { name: 'tufup not an object', input: { tufup: [] }, reason: /tufup must be an object/ },
    { name: 'notsotuf not an object', input: { notsotuf: 1 }, reason: /notsotuf must be an object/ },
    {
      name: 'tufup.notsotuf not an object',
      input: { tufup: { notsotuf: [] } },
      reason: /tufup\.notsotuf must be an object/,
    },
    {
      name: 'contradicting codecs in the two places',
      input: { tufup: { notsotuf: { patch: 'bsdiff4' } }, notsotuf: { patch: 'notsotuf' } },
      reason: /notsotuf\.patch contradicts/,
    },
    {
      name: 'contradicting tar hashes in the two places',
      input: { tufup: { notsotuf: { tar_hash: HASH } }, notsotuf: { tar_hash: 'ab'.repeat(32) } },
      reason: /notsotuf\.tar_hash contradicts/,
    },
    { name: 'required not boolean', input: { tufup: { required: 'true' } }, reason: /tufup\.required/ },
    { name: 'string size', input: { tufup: { tar_size: '10', tar_hash: HASH } }, reason: /tufup\.tar_size/ },
    { name: 'fractional size', input: { tufup: { tar_size: 1.5 } }, reason: /non-negative integer/ },
    { name: 'negative size', input: { tufup: { tar_size: -1 } }, reason: /non-negative integer/ },
    { name: 'non-hex hash', input: { tufup: { tar_hash: 'g'.repeat(64) } }, reason: /64 hex digits/ },
    { name: 'short hash', input: { tufup: { tar_hash: 'abcd' } }, reason: /64 hex digits/ },
    { name: 'hash not a string', input: { tufup: { tar_hash: 1 } }, reason: /tufup\.tar_hash/ },
    { name: 'bad algorithm', input: { tufup: { tar_hash_algorithm: 'sha 256' } }, reason: /algorithm/ },
    { name: 'legacy bad size', input: { changes: [], tar_size: -5 }, reason: /^.*: tar_size/ },
    { name: 'legacy bad required', input: { changes: [], required: 1 }, reason: /required must be/ },
    {
      name: 'contradicting sizes',
      input: { tufup: { tar_size: 1 }, notsotuf: { tar_size: 2 } },
      reason: /contradicts/,
    },
    { name: 'bad codec', input: { notsotuf: { patch: 'BSDIFF' } }, reason: /notsotuf\.patch/ },
  ];
  for (const c of errors) {
    it(`rejects ${c.name}`, () => {
      assert.throws(
        () => parseTargetCustom(c.input, 'my_app-1.0.patch'),
        (err: unknown) => {
          assert.ok(isNotsotufError(err, 'METADATA_INVALID'), String(err));
          assert.match(err.message, c.reason);
          assert.match(err.message, /target "my_app-1\.0\.patch"/);
          assert.deepEqual(err.details, { target: 'my_app-1.0.patch' });
          return true;
        },
      );
    });
  }

  it('works without a target name', () => {
    assert.throws(() => parseTargetCustom(7), { code: 'METADATA_INVALID', message: /of a target:/ });
  });

  it('ignores inherited properties', () => {
    const custom = Object.create({ tufup: { required: true } }) as object;
    assert.deepEqual(parseTargetCustom(custom), { user: null, required: false });
  });
});
