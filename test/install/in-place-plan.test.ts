/**
 * planInPlace and the exclude patterns: pure tables, listing in → plan out. The executor (in-place.test.ts) runs
 * these plans on real files.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { createExcludeMatcher, type Entry, type InPlacePlan, planInPlace } from '../../src/install/index.js';

const f = (path: string, mode = 0o644): Entry => ({ path, type: 'file', mode, size: 1 });
const d = (path: string, mode = 0o755): Entry => ({ path, type: 'dir', mode });
const l = (path: string, linkTarget: string): Entry => ({ path, type: 'symlink', mode: 0o777, linkTarget });

/** The plan by paths, for readable expectations; `replaced` lists writes that replace an installed entry. */
function summary(plan: InPlacePlan) {
  return {
    mkdirs: plan.mkdirs.map((e) => e.path),
    writeFiles: plan.writeFiles.map((w) => w.entry.path),
    writeLinks: plan.writeLinks.map((w) => w.entry.path),
    replaced: [...plan.writeFiles, ...plan.writeLinks].filter((w) => w.replaces).map((w) => w.entry.path),
    remove: plan.remove.map((r) => `${r.reason}:${r.entry.path}`),
    keep: plan.keep.map((e) => e.path),
  };
}

const none = { mkdirs: [], writeFiles: [], writeLinks: [], replaced: [], remove: [], keep: [] };

interface Row {
  name: string;
  source: Entry[];
  installed: Entry[];
  purge?: boolean;
  exclude?: string[];
  expected: Partial<ReturnType<typeof summary>>;
}

const rows: Row[] = [
  {
    name: 'empty install dir: everything is created',
    source: [d('a'), f('a/x', 0o755), l('b', 'a/x')],
    installed: [],
    expected: { mkdirs: ['a'], writeFiles: ['a/x'], writeLinks: ['b'] },
  },
  {
    name: 'files are always rewritten (no hashes to prove them equal); existing dirs are kept',
    source: [d('a'), f('a/x'), f('same')],
    installed: [d('a'), f('a/x'), f('same')],
    expected: { writeFiles: ['a/x', 'same'], replaced: ['a/x', 'same'], keep: ['a'] },
  },
  {
    name: 'a symlink with the same text is kept, a changed one replaced',
    source: [f('t'), l('same', 't'), l('changed', 'new')],
    installed: [l('same', 't'), l('changed', 'old')],
    expected: { writeFiles: ['t'], writeLinks: ['changed'], replaced: ['changed'], keep: ['same'] },
  },
  {
    name: 'without purge nothing extra is removed',
    source: [f('a')],
    installed: [f('a'), f('old'), d('olddir'), f('olddir/x')],
    expected: { writeFiles: ['a'], replaced: ['a'], keep: ['old', 'olddir', 'olddir/x'] },
  },
  {
    name: 'purge removes extras, a removed directory as one topmost entry',
    source: [d('lib'), f('lib/new')],
    installed: [d('lib'), f('lib/old'), d('gone'), d('gone/deep'), f('gone/deep/x')],
    purge: true,
    expected: { writeFiles: ['lib/new'], remove: ['purge:gone', 'purge:lib/old'], keep: ['lib'] },
  },
  {
    name: 'exclude a file, a directory subtree (with or without slash) and a glob at any depth',
    source: [d('lib'), f('lib/new')],
    installed: [
      f('config.ini'),
      d('logs'),
      f('logs/today.txt'),
      d('cache'),
      d('cache/x'),
      d('lib'),
      f('lib/debug.log'),
      f('lib/old.so'),
      d('other'),
      f('other/a.log'),
      f('other/b.txt'),
    ],
    purge: true,
    exclude: ['config.ini', 'logs', 'cache/', '*.log'],
    expected: {
      writeFiles: ['lib/new'],
      remove: ['purge:lib/old.so', 'purge:other/b.txt'],
      keep: [
        'cache',
        'cache/x',
        'config.ini',
        'lib',
        'lib/debug.log',
        'logs',
        'logs/today.txt',
        'other',
        'other/a.log',
      ],
    },
  },
  {
    name: 'a pattern with a slash inside is anchored at the install dir',
    source: [],
    installed: [d('data'), d('data/cache'), f('data/cache/x'), d('sub'), d('sub/data'), d('sub/data/cache')],
    purge: true,
    exclude: ['data/cache'],
    expected: { remove: ['purge:sub'], keep: ['data', 'data/cache', 'data/cache/x'] },
  },
  {
    name: 'backup and work directories of the installer are always kept',
    source: [],
    installed: [d('.notsotuf-backup-abc123'), f('.notsotuf-backup-abc123/old'), f('.notsotuf-lock'), f('x')],
    purge: true,
    expected: {
      remove: ['purge:x'],
      keep: ['.notsotuf-backup-abc123', '.notsotuf-backup-abc123/old', '.notsotuf-lock'],
    },
  },
  {
    name: 'type change file → dir: the file goes first, then the dir is made',
    source: [d('a'), f('a/x')],
    installed: [f('a')],
    expected: { mkdirs: ['a'], writeFiles: ['a/x'], remove: ['type-change:a'] },
  },
  {
    name: 'type change dir → file: the dir goes with its subtree (even without purge)',
    source: [f('a')],
    installed: [d('a'), f('a/x'), d('a/sub'), f('a/sub/y')],
    expected: { writeFiles: ['a'], remove: ['type-change:a'] },
  },
  {
    name: 'type change dir → symlink and symlink → dir (a symlinked dir is never written through)',
    source: [l('bin', 'lib'), d('lib'), f('lib/x'), d('lib64'), f('lib64/y')],
    installed: [d('bin'), f('bin/app'), d('lib'), l('lib64', 'lib')],
    expected: {
      mkdirs: ['lib64'],
      writeFiles: ['lib/x', 'lib64/y'],
      writeLinks: ['bin'],
      remove: ['type-change:bin', 'type-change:lib64'],
      keep: ['lib'],
    },
  },
  {
    name: 'the release wins over an exclude pattern: exclusion only protects from purge',
    source: [f('logs'), f('config.ini')],
    installed: [d('logs'), f('logs/x'), f('config.ini')],
    purge: true,
    exclude: ['logs', 'config.ini'],
    expected: { writeFiles: ['config.ini', 'logs'], replaced: ['config.ini'], remove: ['type-change:logs'] },
  },
  {
    name: 'listing order does not matter',
    source: [f('z/b'), f('z/a'), d('z'), f('a')],
    installed: [f('old/x'), d('old'), f('a')],
    purge: true,
    expected: { mkdirs: ['z'], writeFiles: ['a', 'z/a', 'z/b'], replaced: ['a'], remove: ['purge:old'] },
  },
];

describe('planInPlace', () => {
  for (const row of rows) {
    test(row.name, () => {
      const plan = planInPlace(row.source, row.installed, {
        purge: row.purge ?? false,
        exclude: row.exclude ?? [],
      });
      assert.deepEqual(summary(plan), { ...none, ...row.expected });
    });
  }

  test('every installed entry is accounted for exactly once (kept, replaced, removed, or under a removed dir)', () => {
    for (const row of rows) {
      const plan = planInPlace(row.source, row.installed, {
        purge: row.purge ?? false,
        exclude: row.exclude ?? [],
      });
      const s = summary(plan);
      const removed = s.remove.map((r) => r.slice(r.indexOf(':') + 1));
      for (const { path } of row.installed) {
        const under = removed.filter((r) => path === r || path.startsWith(`${r}/`)).length;
        const count =
          under + s.keep.filter((k) => k === path).length + s.replaced.filter((k) => k === path).length;
        assert.equal(count, 1, `${row.name}: ${path}`);
      }
    }
  });

  const invalid: { name: string; source: Entry[]; installed?: Entry[]; exclude?: string[] }[] = [
    { name: 'a path that climbs out', source: [f('../evil')] },
    { name: 'an absolute path', source: [f('/etc/passwd')] },
    { name: 'a `.` segment', source: [d('a'), f('a/./b')] },
    { name: 'an empty segment', source: [d('a'), f('a//b')] },
    { name: 'a missing parent directory', source: [f('a/b')] },
    { name: 'a file used as a parent', source: [f('a'), f('a/b')] },
    { name: 'a duplicate', source: [f('a'), f('a')] },
    { name: 'a symlink without link text', source: [{ path: 'l', type: 'symlink', mode: 0o777 }] },
    { name: 'an installed path that climbs out', source: [], installed: [f('..')] },
    { name: 'an exclude pattern that climbs out', source: [], exclude: ['../x'] },
    { name: 'an empty exclude pattern', source: [], exclude: ['/'] },
  ];
  for (const row of invalid) {
    test(`rejects ${row.name} with INVALID_ARGUMENT`, () => {
      assert.throws(
        () => planInPlace(row.source, row.installed ?? [], { purge: true, exclude: row.exclude ?? [] }),
        (err: unknown) => isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    });
  }
});

describe('exclude patterns', () => {
  const table: [pattern: string, path: string, expected: boolean][] = [
    ['logs', 'logs', true],
    ['logs', 'logs/a/b.txt', true],
    ['logs', 'sub/logs/x', true],
    ['logs/', 'logs/x', true],
    ['./logs', 'logs', true],
    ['logs', 'logsx', false],
    ['logs', 'xlogs', false],
    ['*.log', 'a.log', true],
    ['*.log', 'deep/er/a.log', true],
    ['*.log', 'a.log.txt', false],
    ['*.log', 'dir.log/inside', true],
    ['data/cache', 'data/cache/x', true],
    ['data/cache', 'other/data/cache', false],
    ['data/*.db', 'data/user.db', true],
    ['data/*.db', 'data/sub/user.db', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['(x)+', 'xx', false],
    ['Logs', 'logs', false],
  ];
  for (const [pattern, path, expected] of table) {
    test(`${JSON.stringify(pattern)} ${expected ? 'protects' : 'does not protect'} ${path}`, () => {
      assert.equal(createExcludeMatcher([pattern])(path), expected);
    });
  }

  test('ignoreCase matches letters case-insensitively (Windows file systems)', () => {
    assert.equal(createExcludeMatcher(['Logs'], { ignoreCase: true })('logs/x'), true);
  });
});
