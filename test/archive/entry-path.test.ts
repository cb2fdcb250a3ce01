import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkSymlinkTarget,
  type EntryPathResult,
  MAX_ENTRY_DEPTH,
  MAX_ENTRY_PATH_LENGTH,
  normalizeEntryPath,
  parentPaths,
} from '../../src/archive/index.js';

const ok = (path: string): EntryPathResult => ({ ok: true, path });
/** A refusal whose reason matches the pattern. */
const no = (reason: RegExp) => reason;

type Row = [name: string, input: string, expected: EntryPathResult | RegExp];

function check(result: EntryPathResult, expected: EntryPathResult | RegExp): void {
  if (expected instanceof RegExp) {
    assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
    if (!result.ok) assert.match(result.reason, expected);
  } else {
    assert.deepEqual(result, expected);
  }
}

describe('normalizeEntryPath', () => {
  const rows: Row[] = [
    ['plain file', 'a.txt', ok('a.txt')],
    ['leading ./', './a.txt', ok('a.txt')],
    ['repeated ./', '././a.txt', ok('a.txt')],
    ['nested', './a/b/c.txt', ok('a/b/c.txt')],
    ['trailing slash of a directory', './a/b/', ok('a/b')],
    ['root as .', '.', ok('.')],
    ['root as ./', './', ok('.')],
    ['root as .//', './/', ok('.')],
    ['empty segments in the middle', 'a//b///c', ok('a/b/c')],
    ['. segment in the middle', 'a/./b', ok('a/b')],
    ['dots inside a name are fine', 'a/..b/c..', ok('a/..b/c..')],
    ['three dots is a name', '.../x', ok('.../x')],
    ['non-ASCII', './héllo/日本語.txt', ok('héllo/日本語.txt')],
    ['empty', '', no(/empty/)],
    ['.. alone', '..', no(/"\.\."/)],
    ['leading ..', '../evil', no(/"\.\."/)],
    ['./..', './../evil', no(/"\.\."/)],
    ['.. that climbs out after going in', 'a/../../evil', no(/"\.\."/)],
    ['.. that stays inside (still refused)', 'a/../b', no(/"\.\."/)],
    ['trailing ..', 'a/..', no(/"\.\."/)],
    ['absolute', '/etc/evil', no(/absolute/)],
    ['absolute root', '/', no(/absolute/)],
    ['double slash absolute', '//etc/evil', no(/absolute/)],
    ['drive with backslash', 'C:\\evil', no(/absolute/)],
    ['drive with slash', 'C:/evil', no(/absolute/)],
    ['drive-relative', 'c:evil', no(/absolute/)],
    ['UNC path', '\\\\server\\share\\evil', no(/absolute/)],
    ['leading backslash', '\\evil', no(/absolute/)],
    ['backslash inside', 'a\\..\\..\\evil', no(/backslash/)],
    ['backslash in a name', 'a\\b', no(/backslash/)],
    ['NUL', 'a\u0000b', no(/NUL/)],
    ['alternate data stream', 'a.txt:stream', no(/colon/)],
    ['colon in a later segment', 'a/b:c', no(/colon/)],
    ['too long', 'a'.repeat(MAX_ENTRY_PATH_LENGTH + 1), no(/longer than/)],
    ['too deep', 'a/'.repeat(MAX_ENTRY_DEPTH + 1), no(/nested more than/)],
  ];
  for (const [name, input, expected] of rows) {
    test(name, () => check(normalizeEntryPath(input), expected));
  }
});

describe('checkSymlinkTarget', () => {
  const rows: Array<[name: string, link: string, target: string, expected: EntryPathResult | RegExp]> = [
    ['sibling', 'example_app', 'bin/example_app.sh', ok('bin/example_app.sh')],
    ['up one level, still inside', 'a/b/up', '../../bin/run.sh', ok('bin/run.sh')],
    ['to the root', 'a/link', '..', ok('.')],
    ['to itself', 'link', '.', ok('.')],
    ['./ and // are ignored', 'a/link', './/b/./c', ok('a/b/c')],
    ['dangling but inside', 'link', 'missing', ok('missing')],
    ['out by one', 'link', '../outside', no(/outside the extraction directory/)],
    ['out by two', 'a/link', '../../outside', no(/outside/)],
    ['out and back in (the kernel would have left)', 'a/link', '../../dest/a', no(/outside/)],
    ['in, then out', 'link', 'a/../../x', no(/outside/)],
    ['absolute', 'link', '/etc', no(/absolute/)],
    ['absolute file', 'a/link', '/etc/passwd', no(/absolute/)],
    ['drive letter', 'link', 'C:\\Windows', no(/absolute/)],
    ['UNC', 'link', '\\\\server\\share', no(/absolute/)],
    ['backslash', 'link', 'a\\..\\..\\x', no(/backslash/)],
    ['empty', 'link', '', no(/empty/)],
    ['NUL', 'link', 'a\u0000', no(/NUL/)],
  ];
  for (const [name, link, target, expected] of rows) {
    test(name, () => check(checkSymlinkTarget(link, target), expected));
  }
});

describe('parentPaths', () => {
  const rows: Array<[string, string[]]> = [
    ['a', []],
    ['a/b', ['a']],
    ['a/b/c', ['a', 'a/b']],
    ['.', []],
  ];
  for (const [input, expected] of rows) {
    test(input, () => assert.deepEqual(parentPaths(input), expected));
  }
});
