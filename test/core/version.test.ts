import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNotsotufError, NotsotufError } from '../../src/core/errors.js';
import {
  compareVersions,
  isPreRelease,
  parseVersion,
  preReleaseLevel,
  tryParseVersion,
  versionsEqual,
} from '../../src/core/version.js';

// Expected values checked against python `packaging` 26 (`str(Version(input))`).
const normalizeCases: { name: string; input: string; expected: string }[] = [
  { name: 'plain final stays', input: '1.0.0', expected: '1.0.0' },
  { name: 'single segment', input: '1', expected: '1' },
  { name: 'leading v dropped', input: 'v2.0', expected: '2.0' },
  { name: 'leading V dropped', input: 'V2.0', expected: '2.0' },
  { name: 'rc with separator and case', input: '1.0-RC1', expected: '1.0rc1' },
  { name: 'fixture pre-release', input: '3.0rc1', expected: '3.0rc1' },
  { name: 'leading zeros stripped', input: '01.002.0', expected: '1.2.0' },
  { name: 'epoch', input: '1!2.0', expected: '1!2.0' },
  { name: 'zero epoch dropped', input: '0!2.0', expected: '2.0' },
  { name: 'alpha spelling', input: '1.0alpha2', expected: '1.0a2' },
  { name: 'beta spelling', input: '1.0.beta.3', expected: '1.0b3' },
  { name: 'c spelling', input: '1.0c1', expected: '1.0rc1' },
  { name: 'pre spelling', input: '1.0pre1', expected: '1.0rc1' },
  { name: 'preview spelling', input: '1.0-preview_4', expected: '1.0rc4' },
  { name: 'implicit pre number', input: '1.0a', expected: '1.0a0' },
  { name: 'post', input: '1.0.post1', expected: '1.0.post1' },
  { name: 'implicit post -N', input: '1.0-1', expected: '1.0.post1' },
  { name: 'post spelling rev', input: '1.0rev2', expected: '1.0.post2' },
  { name: 'post spelling r', input: '1.0-r3', expected: '1.0.post3' },
  { name: 'implicit post number', input: '1.0.post', expected: '1.0.post0' },
  { name: 'dev', input: '1.0.dev3', expected: '1.0.dev3' },
  { name: 'dev with separators', input: '1.0-dev_3', expected: '1.0.dev3' },
  { name: 'implicit dev number', input: '1.0dev', expected: '1.0.dev0' },
  { name: 'pre + post + dev', input: '1.0a1.post2.dev3', expected: '1.0a1.post2.dev3' },
  { name: 'local', input: '1.0+abc.1', expected: '1.0+abc.1' },
  { name: 'local normalized', input: '1.0+Ubuntu-01_x', expected: '1.0+ubuntu.1.x' },
  { name: 'everything', input: 'v1!2.3-RC.4-5.DEV6+Local.7', expected: '1!2.3rc4.post5.dev6+local.7' },
  { name: 'semver rc', input: '1.2.3-rc.1', expected: '1.2.3rc1' },
  { name: 'semver beta', input: '1.2.3-beta.2', expected: '1.2.3b2' },
  { name: 'semver alpha', input: '1.2.3-alpha.1', expected: '1.2.3a1' },
  { name: 'semver alpha without number', input: '1.2.3-alpha', expected: '1.2.3a0' },
  { name: 'semver dev', input: '1.2.3-dev.4', expected: '1.2.3.dev4' },
  { name: 'semver build', input: '1.2.3+build.5', expected: '1.2.3+build.5' },
  { name: 'semver rc + build', input: '1.2.3-rc.1+build.5', expected: '1.2.3rc1+build.5' },
  { name: 'semver rc + dev', input: '1.2.3-rc.1.dev.2', expected: '1.2.3rc1.dev2' },
  { name: 'semver with v', input: 'v1.2.3-beta.2', expected: '1.2.3b2' },
  { name: 'max safe integer', input: '9007199254740991', expected: '9007199254740991' },
  { name: '64 characters', input: `1.${'0.'.repeat(30)}00`, expected: `1.${'0.'.repeat(30)}0` },
];

const invalidCases: { name: string; input: string; reason: RegExp }[] = [
  { name: 'empty', input: '', reason: /empty/ },
  { name: 'leading whitespace', input: ' 1.0', reason: /whitespace/ },
  { name: 'trailing whitespace', input: '1.0\n', reason: /whitespace/ },
  { name: 'too long', input: `1.${'0.'.repeat(31)}0`, reason: /longer than 64/ },
  { name: 'number too large', input: '1.9007199254740992', reason: /9007199254740992 is larger/ },
  { name: 'huge epoch', input: '99999999999999999999!1.0', reason: /is larger/ },
  { name: 'huge local number', input: '1.0+99999999999999999999', reason: /is larger/ },
  { name: 'not a number', input: 'latest', reason: /must start with a number/ },
  { name: 'only v', input: 'v', reason: /must start with a number/ },
  { name: 'bad character', input: '1.0/2', reason: /"\/" at position 3/ },
  { name: 'unicode digit', input: '١.0', reason: /position 0/ },
  { name: 'trailing garbage', input: '1.0-foo', reason: /unexpected "-foo" after "1.0"/ },
  { name: 'trailing dot', input: '1.0.', reason: /unexpected "\." after "1.0"/ },
  { name: 'empty local', input: '1.0+', reason: /unexpected "\+"/ },
  { name: 'double dot', input: '1..0', reason: /unexpected/ },
  {
    name: 'semver unsupported tag',
    input: '1.2.3-foo.1',
    reason: /tag "foo" is not supported.*alpha, beta, rc and dev/,
  },
  { name: 'semver numeric pre-release', input: '1.2.3-0.3.7', reason: /tag "0" is not supported/ },
  { name: 'semver extra identifiers', input: '1.2.3-rc.1.x', reason: /tag "x" is not supported/ },
  { name: 'semver bad build metadata', input: '1.2.3+-x', reason: /build metadata "-x"/ },
];

describe('parseVersion', () => {
  for (const c of normalizeCases) {
    it(`normalizes: ${c.name} (${c.input})`, () => {
      const v = parseVersion(c.input);
      assert.equal(v.normalized, c.expected);
      assert.equal(v.raw, c.input);
      // The normalized form is itself a fixed point.
      assert.equal(parseVersion(v.normalized).normalized, c.expected);
    });
  }

  for (const c of invalidCases) {
    it(`rejects: ${c.name}`, () => {
      assert.throws(
        () => parseVersion(c.input),
        (err: unknown) => {
          assert.ok(isNotsotufError(err, 'VERSION_INVALID'), `wrong error: ${String(err)}`);
          assert.match(err.message, c.reason);
          assert.ok(err.hint && err.hint.length > 0);
          assert.equal(typeof err.details['version'], 'string');
          return true;
        },
      );
    });
  }

  it('reports the exact input in details', () => {
    const err = (() => {
      try {
        parseVersion('1.0-foo');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof NotsotufError);
    assert.deepEqual(err.details, { version: '1.0-foo' });
  });

  it('splits into parts', () => {
    const v = parseVersion('v1!2.03-RC.4-5.DEV6+Local.07');
    assert.deepEqual(
      { ...v, release: [...v.release], pre: v.pre && [...v.pre] },
      {
        raw: 'v1!2.03-RC.4-5.DEV6+Local.07',
        normalized: '1!2.3rc4.post5.dev6+local.7',
        epoch: 1,
        release: [2, 3],
        pre: ['rc', 4],
        post: 5,
        dev: 6,
        local: 'local.7',
      },
    );
  });

  it('leaves absent parts out and freezes the result', () => {
    const v = parseVersion('2.0');
    assert.deepEqual(Object.keys(v).sort(), ['epoch', 'normalized', 'raw', 'release']);
    assert.ok(Object.isFrozen(v));
    assert.ok(Object.isFrozen(v.release));
  });
});

describe('tryParseVersion', () => {
  const cases: { name: string; input: string; expected: string | undefined }[] = [
    { name: 'valid', input: '1.0rc1', expected: '1.0rc1' },
    { name: 'invalid', input: 'nope', expected: undefined },
    { name: 'empty', input: '', expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(tryParseVersion(c.input)?.normalized, c.expected));
  }
});

describe('compareVersions', () => {
  // Strictly ascending; checked against python `packaging`.
  const ascending = [
    '0.1a0',
    '0.1b0',
    '0.1rc0',
    '0.1',
    '0.1.post1',
    '1.0.dev0',
    '1.0a0.dev0',
    '1.0a0',
    '1.0a1.dev0',
    '1.0a1',
    '1.0a1.post0.dev0',
    '1.0a1.post0',
    '1.0b0',
    '1.0rc0',
    '1.0',
    '1.0+abc',
    '1.0+abc.1',
    '1.0+abc.1.a',
    '1.0+1',
    '1.0+2',
    '1.0+10',
    '1.0.post0.dev0',
    '1.0.post0',
    '1.0.post1',
    '1.0.1',
    '1.1.dev1',
    '2.0',
    '3.0rc1',
    '3.0',
    '10.0',
    '1!0.1',
  ];
  for (let i = 0; i + 1 < ascending.length; i++) {
    const lo = ascending[i]!;
    const hi = ascending[i + 1]!;
    it(`${lo} < ${hi}`, () => {
      assert.ok(compareVersions(parseVersion(lo), parseVersion(hi)) < 0);
      assert.ok(compareVersions(parseVersion(hi), parseVersion(lo)) > 0);
    });
  }

  it('sorts a shuffled list into PEP 440 order', () => {
    const shuffled = [...ascending].reverse().sort((a, b) => a.length - b.length);
    const sorted = shuffled
      .map((s) => parseVersion(s))
      .sort(compareVersions)
      .map((v) => v.raw);
    assert.deepEqual(sorted, ascending);
  });

  const equalCases: { name: string; a: string; b: string; expected: boolean }[] = [
    { name: 'trailing zeros', a: '1.0', b: '1.0.0', expected: true },
    { name: 'many trailing zeros', a: '1', b: '1.0.0.0', expected: true },
    { name: 'spelling', a: '1.0-RC1', b: '1.0rc1', expected: true },
    { name: 'semver vs pep', a: '1.2.3-beta.2', b: '1.2.3b2', expected: true },
    { name: 'explicit zero epoch', a: '0!1.0', b: '1.0', expected: true },
    { name: 'local differs', a: '1.0+a', b: '1.0', expected: false },
    { name: 'local numbers', a: '1.0+01', b: '1.0+1', expected: true },
    { name: 'post0 vs final', a: '1.0.post0', b: '1.0', expected: false },
    { name: 'dev0 vs final', a: '1.0.dev0', b: '1.0', expected: false },
  ];
  for (const c of equalCases) {
    it(`versionsEqual: ${c.name}`, () => {
      const a = parseVersion(c.a);
      const b = parseVersion(c.b);
      assert.equal(versionsEqual(a, b), c.expected);
      assert.equal(compareVersions(a, b) === 0, c.expected);
    });
  }
});

describe('isPreRelease / preReleaseLevel', () => {
  const cases: { name: string; input: string; expected: 'a' | 'b' | 'rc' | undefined }[] = [
    { name: 'final', input: '1.0', expected: undefined },
    { name: 'alpha', input: '1.0a1', expected: 'a' },
    { name: 'beta', input: '1.0-beta.2', expected: 'b' },
    { name: 'rc', input: '3.0rc1', expected: 'rc' },
    { name: 'c is rc', input: '1.0c1', expected: 'rc' },
    { name: 'dev of a pre is a pre', input: '1.0rc1.dev0', expected: 'rc' },
    { name: 'dev counts as final', input: '1.0.dev1', expected: undefined },
    { name: 'post counts as final', input: '1.0.post1', expected: undefined },
    { name: 'local counts as final', input: '1.0+abc', expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = parseVersion(c.input);
      assert.equal(preReleaseLevel(v), c.expected);
      assert.equal(isPreRelease(v), c.expected !== undefined);
    });
  }
});
