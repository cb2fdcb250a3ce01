import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  ARCHIVE_SUFFIXES,
  formatTargetName,
  isArchiveSuffix,
  PATCH_SUFFIX,
  parseTargetName,
  platformAppName,
  type TargetKind,
  validateAppName,
} from '../../src/core/target-name.js';
import { parseVersion } from '../../src/core/version.js';

type Parsed = { app: string; version: string; kind: TargetKind; suffix: string } | undefined;

function summary(name: string): Parsed {
  const t = parseTargetName(name);
  if (!t) return undefined;
  assert.equal(t.name, name);
  return { app: t.app, version: t.version.normalized, kind: t.kind, suffix: t.suffix };
}

describe('constants', () => {
  it('has the tufup suffixes', () => {
    assert.deepEqual([...ARCHIVE_SUFFIXES], ['.tar.gz']);
    assert.equal(PATCH_SUFFIX, '.patch');
    assert.equal(isArchiveSuffix('.tar.gz'), true);
    assert.equal(isArchiveSuffix('.patch'), false);
  });
});

describe('parseTargetName', () => {
  const cases: { name: string; input: string; expected: Parsed }[] = [
    // Real names from the tufup 0.10 fixture repository.
    {
      name: 'fixture archive',
      input: 'example_app-2.0.tar.gz',
      expected: { app: 'example_app', version: '2.0', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'fixture pre-release patch',
      input: 'example_app-3.0rc1.patch',
      expected: { app: 'example_app', version: '3.0rc1', kind: 'patch', suffix: '.patch' },
    },
    {
      name: 'fixture pre-release archive',
      input: 'example_app-3.0rc1.tar.gz',
      expected: { app: 'example_app', version: '3.0rc1', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'greedy app name with dashes and digits',
      input: 'my-app-2-1.0.tar.gz',
      expected: { app: 'my-app-2', version: '1.0', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'platform app name',
      input: 'my_app-linux-x64-1.2.3.tar.gz',
      expected: { app: 'my_app-linux-x64', version: '1.2.3', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'app name cannot take a dot, so the version keeps its -N post part',
      input: 'my_app-1.0-1.patch',
      expected: { app: 'my_app', version: '1.0.post1', kind: 'patch', suffix: '.patch' },
    },
    {
      name: 'digit-only last part is the version',
      input: 'my_app-1-2.tar.gz',
      expected: { app: 'my_app-1', version: '2', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'non-normalized version kept in name, normalized in version',
      input: 'app-1.0-RC1.tar.gz',
      expected: { app: 'app', version: '1.0rc1', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'epoch and local',
      input: 'app-1!2.0+build.5.tar.gz',
      expected: { app: 'app', version: '1!2.0+build.5', kind: 'archive', suffix: '.tar.gz' },
    },
    {
      name: 'app name with trailing dash',
      input: 'app--1.0.tar.gz',
      expected: { app: 'app-', version: '1.0', kind: 'archive', suffix: '.tar.gz' },
    },
    { name: 'directory part', input: 'targets/app-1.0.tar.gz', expected: undefined },
    { name: 'windows directory part', input: 'targets\\app-1.0.tar.gz', expected: undefined },
    { name: 'dot-dot', input: '../app-1.0.tar.gz', expected: undefined },
    { name: 'space', input: 'my app-1.0.tar.gz', expected: undefined },
    { name: 'percent escape', input: 'app-1.0%2e.tar.gz', expected: undefined },
    { name: 'unknown suffix', input: 'app-1.0.zip', expected: undefined },
    { name: 'plain tar', input: 'app-1.0.tar', expected: undefined },
    { name: 'no version', input: 'app.tar.gz', expected: undefined },
    { name: 'empty version', input: 'app-.tar.gz', expected: undefined },
    { name: 'no app', input: '-1.0.tar.gz', expected: undefined },
    { name: 'invalid version', input: 'app-1.0-foo.tar.gz', expected: undefined },
    { name: 'dotted app name', input: 'my.app-1.0.tar.gz', expected: undefined },
    { name: 'patch of an archive name', input: 'app-1.0.tar.gz.patch', expected: undefined },
    { name: 'suffix only', input: '.patch', expected: undefined },
    { name: 'empty', input: '', expected: undefined },
    { name: 'app name too long', input: `${'a'.repeat(101)}-1.0.tar.gz`, expected: undefined },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.input.slice(0, 40)}`, () => assert.deepEqual(summary(c.input), c.expected));
  }
});

describe('formatTargetName', () => {
  const cases: {
    name: string;
    input: [string, string, TargetKind, string?];
    expected: string;
  }[] = [
    {
      name: 'archive default suffix',
      input: ['example_app', '2.0', 'archive'],
      expected: 'example_app-2.0.tar.gz',
    },
    { name: 'patch', input: ['example_app', '3.0rc1', 'patch'], expected: 'example_app-3.0rc1.patch' },
    { name: 'explicit suffix', input: ['app', '1.0', 'archive', '.tar.gz'], expected: 'app-1.0.tar.gz' },
    { name: 'normalizes the version', input: ['app', 'v1.0-RC1', 'archive'], expected: 'app-1.0rc1.tar.gz' },
    { name: 'semver', input: ['app', '1.2.3-beta.2', 'patch'], expected: 'app-1.2.3b2.patch' },
    { name: 'post -N', input: ['my-app-2', '1.0-1', 'archive'], expected: 'my-app-2-1.0.post1.tar.gz' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = formatTargetName(...c.input);
      assert.equal(out, c.expected);
      const back = parseTargetName(out);
      assert.equal(back?.app, c.input[0]);
      assert.equal(back?.kind, c.input[2]);
    });
  }

  it('takes a parsed Version', () => {
    assert.equal(formatTargetName('app', parseVersion('1.0.0-rc.1'), 'archive'), 'app-1.0.0rc1.tar.gz');
  });

  const errors: { name: string; input: [string, string, TargetKind, string?]; code: string }[] = [
    { name: 'bad app', input: ['my.app', '1.0', 'archive'], code: 'APP_NAME_INVALID' },
    { name: 'bad version', input: ['app', 'latest', 'archive'], code: 'VERSION_INVALID' },
    { name: 'bad archive suffix', input: ['app', '1.0', 'archive', '.zip'], code: 'TARGET_NAME_INVALID' },
    {
      name: 'patch suffix for archive',
      input: ['app', '1.0', 'archive', '.patch'],
      code: 'TARGET_NAME_INVALID',
    },
    {
      name: 'archive suffix for patch',
      input: ['app', '1.0', 'patch', '.tar.gz'],
      code: 'TARGET_NAME_INVALID',
    },
    { name: 'bad kind', input: ['app', '1.0', 'zip' as TargetKind], code: 'TARGET_NAME_INVALID' },
  ];
  for (const c of errors) {
    it(`throws ${c.code}: ${c.name}`, () => {
      assert.throws(() => formatTargetName(...c.input), { name: 'NotsotufError', code: c.code });
    });
  }
});

describe('validateAppName', () => {
  const cases: { name: string; input: string; expected: 'ok' | RegExp }[] = [
    { name: 'underscore', input: 'example_app', expected: 'ok' },
    { name: 'dashes and digits', input: 'my-app-2', expected: 'ok' },
    { name: 'leading digit', input: '7zip', expected: 'ok' },
    { name: 'leading underscore', input: '_app', expected: 'ok' },
    { name: '100 characters', input: 'a'.repeat(100), expected: 'ok' },
    { name: 'empty', input: '', expected: /empty/ },
    { name: 'leading dash', input: '-app', expected: /start with "-"/ },
    { name: 'dot', input: 'my.app', expected: /dots/ },
    { name: 'space', input: 'my app', expected: /letters, digits/ },
    { name: 'slash', input: 'a/b', expected: /letters, digits/ },
    { name: 'non-ascii letter', input: 'äpp', expected: /letters, digits/ },
    { name: '101 characters', input: 'a'.repeat(101), expected: /longer than 100/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.expected === 'ok') {
        assert.equal(validateAppName(c.input), c.input);
        return;
      }
      const reason = c.expected;
      assert.throws(
        () => validateAppName(c.input),
        (err: unknown) =>
          isNotsotufError(err, 'APP_NAME_INVALID') && reason.test(err.message) && err.hint !== undefined,
      );
    });
  }
});

describe('platformAppName', () => {
  const cases: { name: string; input: [string, string]; expected: string | { code: string } }[] = [
    { name: 'linux', input: ['my_app', 'linux-x64'], expected: 'my_app-linux-x64' },
    { name: 'windows arm', input: ['my_app', 'win32-arm64'], expected: 'my_app-win32-arm64' },
    { name: 'mac', input: ['app', 'darwin-x64'], expected: 'app-darwin-x64' },
    { name: 'uppercase platform', input: ['app', 'Linux-x64'], expected: { code: 'PLATFORM_INVALID' } },
    { name: 'os only', input: ['app', 'linux'], expected: { code: 'PLATFORM_INVALID' } },
    { name: 'three parts', input: ['app', 'linux-x64-musl'], expected: { code: 'PLATFORM_INVALID' } },
    { name: 'underscore', input: ['app', 'linux_x64'], expected: { code: 'PLATFORM_INVALID' } },
    { name: 'empty', input: ['app', ''], expected: { code: 'PLATFORM_INVALID' } },
    { name: 'bad app', input: ['my.app', 'linux-x64'], expected: { code: 'APP_NAME_INVALID' } },
    {
      name: 'combined too long',
      input: ['a'.repeat(95), 'linux-x64'],
      expected: { code: 'APP_NAME_INVALID' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (typeof c.expected === 'string') assert.equal(platformAppName(...c.input), c.expected);
      else assert.throws(() => platformAppName(...c.input), { name: 'NotsotufError', code: c.expected.code });
    });
  }
});
