import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readTarEntries, readTarEntryData, type TarEntry } from '../../src/archive/index.js';
import { decodeNumber, decodePaxRecords } from '../../src/archive/tar-header.js';
import { tempDir } from './helpers.js';
import { dir, file, hardlink, pax, paxBody, rawTar, symlink } from './raw-tar.js';

describe('decodeNumber', () => {
  const b = (...bytes: number[]) => Uint8Array.from(bytes);
  const a = (s: string) => Buffer.from(s, 'latin1');
  const rows: Array<[name: string, field: Uint8Array, expected: number | undefined]> = [
    ['octal with NUL', a('0000644\0'), 0o644],
    ['octal with space', a('0000644 '), 0o644],
    ['leading spaces', a('   644\0\0'), 0o644],
    ['empty is 0', a('\0\0\0\0\0\0\0\0'), 0],
    ['all spaces is 0', a('        '), 0],
    ['11-digit maximum', a('77777777777\0'), 0o77777777777],
    ['not octal', a('0000009\0'), undefined],
    ['sign', a('-000001\0'), undefined],
    ['base-256 positive', b(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00), 256],
    ['base-256 over 8 GiB', b(0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0), 2 ** 33],
    ['base-256 negative', b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), -2],
    [
      'base-256 beyond safe integers',
      b(0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      undefined,
    ],
  ];
  for (const [name, field, expected] of rows) test(name, () => assert.equal(decodeNumber(field), expected));
});

describe('decodePaxRecords', () => {
  /** Well-formed records (lengths computed by the test helper). */
  const recs = (...pairs: Array<[string, string]>) =>
    Buffer.concat(pairs.map(([k, v]) => paxBody({ [k]: v })));
  /** Raw bytes, for malformed bodies: each char is one byte. */
  const raw = (s: string) => Buffer.from(s, 'latin1');
  const rows: Array<[name: string, body: Buffer, expected: Record<string, unknown> | RegExp]> = [
    ['path and size', recs(['path', 'abc'], ['size', '42']), { path: 'abc', size: 42 }],
    [
      'linkpath and fractional mtime',
      recs(['linkpath', 'xyz'], ['mtime', '1600000000.25']),
      { linkpath: 'xyz', mtime: 1600000000.25 },
    ],
    [
      'other keys ignored, even when not UTF-8',
      Buffer.concat([recs(['comment', 'hey']), raw('18 SCHILY.xattr=\xff\n')]),
      {},
    ],
    ['value with = and newline', recs(['path', 'a=b\nc']), { path: 'a=b\nc' }],
    ['multi-byte characters counted in bytes', recs(['path', '日本語']), { path: '日本語' }],
    ['empty value deletes the override', recs(['path', 'abc'], ['path', '']), {}],
    [
      'NUL padding after the records',
      Buffer.concat([recs(['path', 'abc']), Buffer.alloc(3)]),
      { path: 'abc' },
    ],
    ['length too long', raw('99 path=abc\n'), /length/],
    ['length too short', raw('5 path=abc\n'), /length/],
    ['no length', raw('path=abc\n'), /length/],
    ['record not ended by a newline', raw('12 path=abcd'), /length/],
    ['no =', raw('9 pathab\n'), /"="/],
    ['path not UTF-8', raw('11 path=\xff\xfe\n'), /UTF-8/],
    ['size not a number', recs(['size', '4e2']), /size/],
    ['negative size', recs(['size', '-1']), /size/],
    ['mtime not a number', recs(['mtime', 'soon']), /mtime/],
  ];
  for (const [name, body, expected] of rows) {
    test(name, () => {
      const result = decodePaxRecords(body);
      if (expected instanceof RegExp) {
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reason, expected);
      } else {
        assert.deepEqual(result, { ok: true, value: expected });
      }
    });
  }
});

describe('readTarEntries', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('notsotuf-tar-reader-'));
  });
  after(() => cleanup());

  test('yields raw members with types, offsets and data; stops at the first zero block', async () => {
    const tar = Buffer.concat([
      rawTar([
        dir('./'),
        file('./a.txt', 'hello', { mode: 0o4755 }),
        pax({ path: 'b/long.txt', linkpath: 'ignored for files' }),
        file('b/short', 'x'.repeat(1000)),
        symlink('./s', '../up'),
        hardlink('./h', './a.txt'),
        { name: 'dev', type: '3' },
      ]),
      Buffer.from('garbage after the end is never read'),
    ]);
    const path = join(root, 'a.tar');
    await writeFile(path, tar);
    const fh = await open(path, 'r');
    try {
      const entries: TarEntry[] = [];
      for await (const e of readTarEntries(fh, { size: tar.length })) entries.push(e);
      const brief = entries.map((e) => [e.path, e.type, e.typeflag, e.mode.toString(8), e.size, e.linkname]);
      assert.deepEqual(brief, [
        ['./', 'dir', '5', '755', 0, ''],
        ['./a.txt', 'file', '0', '4755', 5, ''],
        ['b/long.txt', 'file', '0', '644', 1000, 'ignored for files'],
        ['./s', 'symlink', '2', '777', 0, '../up'],
        ['./h', 'hardlink', '1', '644', 0, './a.txt'],
        ['dev', 'other', '3', '644', 0, ''],
      ]);
      assert.equal(entries[2]!.headerOffset, 1536, 'the PAX header belongs to the member');
      assert.equal(entries[2]!.dataOffset, 3072);
      const chunks: Buffer[] = [];
      for await (const c of readTarEntryData(fh, entries[2]!, { chunkSize: 300 })) chunks.push(c);
      assert.deepEqual(
        chunks.map((c) => c.length),
        [300, 300, 300, 100],
      );
      assert.equal(Buffer.concat(chunks).toString(), 'x'.repeat(1000));
    } finally {
      await fh.close();
    }
  });

  test('never reads past the given size', async () => {
    const tar = rawTar([file('a', 'a'), file('b', 'b')]);
    const path = join(root, 'b.tar');
    await writeFile(path, tar);
    const fh = await open(path, 'r');
    try {
      const names: string[] = [];
      // Exactly the first member: reading stops there as if the file ended.
      for await (const e of readTarEntries(fh, { size: 1024 })) names.push(e.path);
      assert.deepEqual(names, ['a']);
    } finally {
      await fh.close();
    }
  });
});
