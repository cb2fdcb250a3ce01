import assert from 'node:assert/strict';
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { linkProblem, scanBundle } from '../../src/archive/index.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(() => cleanup());

async function freshBundle(): Promise<string> {
  const dir = join(root, `b${n++}`);
  await mkdir(dir);
  return dir;
}

describe('scanBundle', () => {
  test('lists entries depth-first, children sorted by UTF-8 bytes, with normalised modes', async () => {
    const dir = await freshBundle();
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    for (const f of ['a-b.txt', 'B.txt', 'a/b/x.txt', 'é.txt', 'z.txt', 'a.txt'])
      await writeFile(join(dir, f), f);
    await chmod(join(dir, 'B.txt'), 0o700);
    await chmod(join(dir, 'z.txt'), 0o664);
    await chmod(join(dir, 'a.txt'), 0o744);
    await chmod(join(dir, 'a'), 0o700);
    await symlink('a/b/x.txt', join(dir, 'link'));
    const entries = await scanBundle(dir);
    assert.deepEqual(
      entries.map((e) => [e.path, e.type, e.mode.toString(8), e.size, e.linkTarget]),
      [
        ['.', 'dir', '755', 0, undefined],
        ['./B.txt', 'file', '755', 5, undefined], // 'B' (0x42) < 'a' (0x61) whatever the locale says
        ['./a', 'dir', '755', 0, undefined],
        ['./a/b', 'dir', '755', 0, undefined],
        ['./a/b/x.txt', 'file', '644', 9, undefined],
        ['./a-b.txt', 'file', '644', 7, undefined], // after ./a's contents: children are sorted per directory
        ['./a.txt', 'file', '755', 5, undefined], // any execute bit -> 0755
        ['./empty', 'dir', '755', 0, undefined],
        ['./link', 'symlink', '777', 0, 'a/b/x.txt'],
        ['./z.txt', 'file', '644', 5, undefined], // group-writable -> 0644
        ['./é.txt', 'file', '644', 6, undefined], // non-ASCII last: UTF-8 bytes >= 0x80
      ],
    );
    assert.equal(entries[0]!.absPath, dir);
    assert.equal(entries.find((e) => e.path === './a/b/x.txt')!.absPath, join(dir, 'a', 'b', 'x.txt'));
  });

  test('hard links are regular files; internal links (even dangling or to dirs) are kept', async () => {
    const dir = await freshBundle();
    await mkdir(join(dir, 'sub', 'deep'), { recursive: true });
    await writeFile(join(dir, 'orig'), 'data');
    await link(join(dir, 'orig'), join(dir, 'hard'));
    await symlink('../..', join(dir, 'sub', 'deep', 'to-root'));
    await symlink('sub/deep/../../orig', join(dir, 'roundabout'));
    await symlink('not-there-yet', join(dir, 'dangling'));
    await symlink('sub', join(dir, 'subdir'));
    await symlink('subdir/deep/to-root/orig', join(dir, 'through-links'));
    const entries = await scanBundle(dir);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.equal(byPath.get('./hard')?.type, 'file');
    assert.equal(byPath.get('./hard')?.size, 4);
    assert.equal(byPath.get('./sub/deep/to-root')?.linkTarget, '../..');
    assert.equal(byPath.get('./through-links')?.type, 'symlink');
  });

  test('the root may be reached through a symlink; nothing inside is followed', async () => {
    const dir = await freshBundle();
    await writeFile(join(dir, 'f'), 'x');
    const alias = join(root, `alias${n++}`);
    await symlink(dir, alias);
    assert.deepEqual(
      (await scanBundle(alias)).map((e) => e.path),
      ['.', './f'],
    );
  });

  test('rejects names that are not valid UTF-8 or contain a backslash', async () => {
    const dir = await freshBundle();
    await writeFile(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe])]), 'x');
    await assert.rejects(
      scanBundle(dir),
      (err) => isNotsotufError(err, 'BUNDLE_INVALID') && /UTF-8/.test(String(err)),
    );
    const dir2 = await freshBundle();
    await writeFile(join(dir2, 'back\\slash'), 'x');
    await assert.rejects(
      scanBundle(dir2),
      (err) => isNotsotufError(err, 'BUNDLE_INVALID') && /backslash/.test(String(err)),
    );
  });

  test('rejects a missing directory or a file', async () => {
    await assert.rejects(scanBundle(join(root, 'nope')), (err) => isNotsotufError(err, 'BUNDLE_INVALID'));
    const file = join(root, `file${n++}`);
    await writeFile(file, 'x');
    await assert.rejects(scanBundle(file), (err) => isNotsotufError(err, 'BUNDLE_INVALID'));
  });

  test('honours an aborted signal', async () => {
    const dir = await freshBundle();
    await assert.rejects(scanBundle(dir, { signal: AbortSignal.abort() }), (err) =>
      isNotsotufError(err, 'ABORTED'),
    );
  });
});

describe('linkProblem', () => {
  const cases: Array<[link: string, target: string, safe: boolean]> = [
    ['./l', 'a/b', true],
    ['./l', './a', true],
    ['./l', '.', true],
    ['./d/l', '..', true],
    ['./d/e/l', '../../x', true],
    ['./d/l', 'x/../../y', true],
    ['./l', '..', false],
    ['./l', '../outside', false],
    ['./l', 'sub/../../x', false],
    ['./d/l', '../../x', false],
    ['./l', '/etc/passwd', false],
    ['./l', '', false],
    ['./l', 'a\\..\\..\\x', false],
    ['./l', 'C:/Windows', false],
  ];
  for (const [linkPath, target, safe] of cases) {
    test(`${linkPath} -> ${JSON.stringify(target)} is ${safe ? 'safe' : 'unsafe'}`, () => {
      assert.equal(linkProblem(linkPath, target) === undefined, safe);
    });
  }

  test('follows links met on the way, and detects loops', () => {
    const links = new Map([
      ['./a', '.'],
      ['./loop1', 'loop2'],
      ['./loop2', 'loop1'],
      ['./s', 'sub'],
    ]);
    assert.match(linkProblem('./b', 'a/../x', links) ?? '', /outside/);
    assert.match(linkProblem('./c', 'loop1/x', links) ?? '', /loop/);
    assert.equal(linkProblem('./c', 's/../x', links), undefined);
    assert.equal(linkProblem('./c', 'a/a/a/x', links), undefined);
  });
});
