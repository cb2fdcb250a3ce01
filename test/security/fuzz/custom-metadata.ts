/** Fuzzing of the custom metadata of targets (src/core/custom-metadata.ts). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTargetCustom } from '../../../src/core/custom-metadata.js';
import { assertNoPrototypePollution, type FuzzArea, outcomeOfSync, stringifiable } from './common.js';
import { hostileJsonText, objectText } from './hostile-json.js';

const CUSTOM_FIELDS = [
  'user',
  'tufup',
  'notsotuf',
  'required',
  'tar_size',
  'tar_hash',
  'tar_hash_algorithm',
  'patch',
  'changes',
];

export const customMetadataProperties: FuzzArea = ({ scale }) => {
  const hex64 = 'ab'.repeat(32);
  const fieldValue = fc.oneof(
    fc.constantFrom(
      'true',
      'false',
      'null',
      '0',
      '-1',
      '1.5',
      '9007199254740992',
      '1e400',
      JSON.stringify(hex64),
      JSON.stringify(hex64.toUpperCase()),
      JSON.stringify('ab'.repeat(64)),
      JSON.stringify('ab'.repeat(31)),
      '"sha256"',
      '"sha512"',
      '"SHA256"',
      '"md5"',
      '"bsdiff4"',
      '"notsotuf"',
      '"Bad Codec"',
    ),
    fc.nat().map(String),
    hostileJsonText(CUSTOM_FIELDS, scale),
  );
  const innerText = fc
    .array(
      fc.tuple(
        fc.constantFrom('required', 'tar_size', 'tar_hash', 'tar_hash_algorithm', 'patch', 'x', '__proto__'),
        fieldValue,
      ),
      { maxLength: 5 },
    )
    .map(objectText);
  const customText = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.constantFrom('user', 'tufup', 'notsotuf', '__proto__', 'required', 'changes'),
            fc.oneof(innerText, fieldValue),
          ),
          {
            maxLength: 4,
          },
        )
        .map(objectText),
    },
    { weight: 2, arbitrary: innerText },
    { weight: 2, arbitrary: hostileJsonText(CUSTOM_FIELDS, scale) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  );
  return [
    {
      name: 'custom-metadata: parseTargetCustom on arbitrary JSON',
      testRuns: 300,
      weight: 1,
      property: fc.property(
        customText,
        fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        (text, target) => {
          const custom: unknown = JSON.parse(text);
          const before = stringifiable(custom);
          const r = outcomeOfSync(() => parseTargetCustom(custom, target), { codes: ['METADATA_INVALID'] });
          if (before !== undefined) assert.equal(JSON.stringify(custom), before, 'the input is not modified');
          assertNoPrototypePollution();
          if (!r.ok) return;
          const c = r.value;
          assert.equal(typeof c.required, 'boolean');
          if (c.tarSize !== undefined) assert.ok(Number.isSafeInteger(c.tarSize) && c.tarSize >= 0);
          if (c.tarHashAlgorithm !== undefined) assert.ok(/^[a-z0-9_-]{1,32}$/.test(c.tarHashAlgorithm));
          if (c.tarHash !== undefined) {
            assert.ok(/^(?:[0-9a-f]{2})+$/.test(c.tarHash), 'tar hash is lowercase hex');
            if ((c.tarHashAlgorithm ?? 'sha256') === 'sha256') assert.equal(c.tarHash.length, 64);
          }
          if (c.patchCodec !== undefined) assert.ok(/^[a-z0-9][a-z0-9._-]{0,31}$/.test(c.patchCodec));
          if (custom === null) assert.deepEqual(c, { user: null, required: false });
          else {
            const keys = Object.keys(custom as object);
            const legacy = !keys.every((k) => k === 'user' || k === 'tufup' || k === 'notsotuf');
            if (legacy) assert.equal(c.user, custom, 'legacy custom is the user metadata');
            else
              assert.equal(
                c.user,
                Object.hasOwn(custom as object, 'user') ? (custom as Record<string, unknown>)['user'] : null,
              );
          }
        },
      ),
    },
  ];
};
