/** Fuzzing of version parsing and ordering (src/core/version.ts), and the version-shaped inputs it uses. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTargetName, parseTargetName } from '../../../src/core/target-name.js';
import {
  compareVersions,
  MAX_VERSION_LENGTH,
  parseVersion,
  tryParseVersion,
} from '../../../src/core/version.js';
import { countOutcome, type ErrorExpectation, type FuzzArea, outcomeOfSync } from './common.js';

export const VERSION_CODES: ErrorExpectation = { codes: ['VERSION_INVALID'] };

const digitRun = fc.oneof(
  { weight: 6, arbitrary: fc.nat(20).map(String) },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{1,25}$/) },
  { weight: 1, arbitrary: fc.constantFrom('9007199254740991', '9007199254740992', '00', '007', '0') },
);

/** Version-shaped strings: PEP 440 and semver pieces in any combination, with junk and huge numbers. */
export function versionish(): fc.Arbitrary<string> {
  const structured = fc
    .tuple(
      fc.constantFrom('', 'v', 'V', ' ', '=='),
      fc.option(
        digitRun.map((d) => `${d}!`),
        { nil: '' },
      ),
      fc.array(digitRun, { minLength: 1, maxLength: 30 }).map((a) => a.join('.')),
      fc.constantFrom(
        '',
        'a',
        'b',
        'c',
        'rc',
        'alpha',
        'beta',
        'pre',
        'preview',
        '-rc.',
        '-beta',
        '-alpha.',
        '-x.',
        '.a',
        '_b',
      ),
      fc.option(digitRun, { nil: '' }),
      fc.constantFrom('', 'r', '.post', '-', 'rev', '_post', 'post'),
      fc.option(digitRun, { nil: '' }),
      fc.constantFrom('', 'dev', '.dev', '-dev', '-dev.'),
      fc.option(digitRun, { nil: '' }),
      fc.constantFrom(
        '',
        '+',
        '+local',
        '+Ubuntu-01',
        '+a..b',
        `+${'x'.repeat(40)}`,
        '+1.02.3',
        '+build.5',
        '\u0000',
        '\n',
        ' ',
      ),
    )
    .map((parts) => parts.join(''));
  return fc.oneof(
    { weight: 4, arbitrary: structured },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-zA-Z.!+_-]{0,70}$/) },
  );
}

/**
 * Non-strings a parsed JSON file can put where a string is expected: any JSON value, and the objects that break
 * `String(value)` because their own `toString`/`valueOf` are not functions.
 */
export const nonStringValues = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(
    JSON.parse('{"toString":1}'),
    JSON.parse('{"toString":{},"valueOf":{}}'),
    JSON.parse('{"valueOf":"x"}'),
    [],
    [1, 2],
    undefined,
  ),
);

/** Long versions with every part abbreviated, so normalization makes them longer than their input. */
export const longVersionish = fc
  .tuple(
    fc.array(fc.nat(9), { minLength: 18, maxLength: 31 }).map((a) => a.join('.')),
    fc.constantFrom('a', 'b', 'c', 'rc', 'alpha', ''),
    fc.constantFrom('r', 'post', 'rev', '-1', ''),
    fc.constantFrom('dev', '.dev', ''),
  )
  .map((p) => p.join(''));

function checkVersionResult(input: string, v: ReturnType<typeof parseVersion>): void {
  assert.equal(typeof input, 'string');
  assert.equal(v.raw, input);
  assert.ok(input.length <= MAX_VERSION_LENGTH, 'accepted versions are at most 64 characters');
  assert.ok(
    v.normalized.length <= MAX_VERSION_LENGTH,
    `the normalized form ${JSON.stringify(v.normalized)} is at most 64 characters too`,
  );
  assert.ok(Number.isSafeInteger(v.epoch) && v.epoch >= 0);
  assert.ok(v.release.length >= 1 && v.release.every((n) => Number.isSafeInteger(n) && n >= 0));
  assert.ok(/^[0-9a-z.!+]+$/.test(v.normalized), `normalized form ${JSON.stringify(v.normalized)}`);
  assert.ok(Object.isFrozen(v));
}

export const versionProperties: FuzzArea = () => [
  {
    name: 'version: parseVersion on arbitrary strings and non-string values',
    testRuns: 300,
    weight: 1,
    property: fc.property(fc.oneof(versionish(), longVersionish, nonStringValues), (input) => {
      const r = outcomeOfSync(() => parseVersion(input as string), VERSION_CODES);
      if (!r.ok) return;
      checkVersionResult(input as string, r.value);
      assert.equal(tryParseVersion(input as string)?.normalized, r.value.normalized);
      // Re-parsing the canonical form gives the same version.
      const again = parseVersion(r.value.normalized);
      assert.equal(again.normalized, r.value.normalized);
      assert.equal(compareVersions(again, r.value), 0);
    }),
  },
  {
    name: 'version: the normalized form of every accepted version is accepted again',
    testRuns: 300,
    weight: 1,
    property: fc.property(fc.oneof(versionish(), longVersionish), (input) => {
      const v = tryParseVersion(input);
      if (v === undefined) return;
      const again = outcomeOfSync(() => parseVersion(v.normalized), VERSION_CODES);
      assert.ok(
        again.ok,
        `${JSON.stringify(input)} normalizes to the unparseable ${JSON.stringify(v.normalized)}`,
      );
      const name = formatTargetName('app', v, 'archive');
      assert.equal(parseTargetName(name)?.version.normalized, v.normalized, `${name} parses back`);
    }),
  },
  {
    name: 'version: compareVersions is a consistent order on fuzzed versions',
    testRuns: 200,
    weight: 1,
    property: fc.property(fc.array(versionish(), { minLength: 3, maxLength: 3 }), (inputs) => {
      const vs = inputs.map((s) => tryParseVersion(s)).filter((v) => v !== undefined);
      countOutcome(`${vs.length} of 3 parsed`);
      for (const a of vs) {
        assert.equal(compareVersions(a, a), 0);
        for (const b of vs) {
          const ab = Math.sign(compareVersions(a, b));
          const ba = Math.sign(compareVersions(b, a));
          assert.ok(ab === -ba, `${a.raw} vs ${b.raw} is antisymmetric (${ab}, ${ba})`);
          if (a.normalized === b.normalized) assert.equal(ab, 0);
          for (const c of vs) {
            if (ab <= 0 && compareVersions(b, c) <= 0) {
              assert.ok(compareVersions(a, c) <= 0, `${a.raw} <= ${b.raw} <= ${c.raw} is transitive`);
            }
          }
        }
      }
    }),
  },
];
