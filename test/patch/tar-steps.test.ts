import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isNotsotufError } from '../../src/core/errors.js';
import { FileSlices } from '../../src/patch/notsotuf/file-slices.js';
import { tableBits } from '../../src/patch/notsotuf/hash-finder.js';
import { giveBackTable, takeTable } from '../../src/patch/notsotuf/table-pool.js';
import { bufferSource, indexTar, type TarMember } from '../../src/patch/notsotuf/tar-index.js';
import { membersToHash, planMembers } from '../../src/patch/notsotuf/tar-steps.js';
import { tempDir } from './helpers.js';

const FIXTURE = new URL('../fixtures/tufup-repo-v0.10/repository/targets/', import.meta.url).pathname;

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-tar-steps-'));
});
after(async () => cleanup());

let offset = 0;
function member(path: string, dataSize: number): TarMember {
  const headerStart = offset;
  offset += 512 + Math.ceil(dataSize / 512) * 512;
  return { path, headerStart, dataStart: headerStart + 512, dataSize };
}

/** The plan when no content was hashed (no same-sized member on the other side): renames decide alone. */
const planWithoutHashes = (before: TarMember[], after: TarMember[]) =>
  planMembers(
    before,
    after,
    before.map(() => undefined),
    after.map(() => undefined),
  );

describe('planning a tar patch (decisions as data)', () => {
  const oldMembers = [
    member('app/main.js', 3000),
    member('app/lib.so', 9000),
    member('app/moved.bin', 4000),
    member('app/empty', 0),
    member('app/gone.txt', 100),
  ];
  const newMembers = [
    member('app/main.js', 3100), // changed
    member('app/lib.so', 9000), // same path, same size, other content
    member('app/elsewhere/renamed.bin', 4000), // moved: same content under another path
    member('app/empty', 0),
    member('app/new.txt', 100), // new path; same size as gone.txt but other content
  ];

  test('only contents whose size is in both tars are hashed', () => {
    const toHash = membersToHash(oldMembers, newMembers);
    assert.deepEqual(toHash.old, [false, true, true, false, true]);
    assert.deepEqual(toHash.new, [false, true, true, false, true]);
  });

  test('copy by content, diff by path, insert what has no old version', () => {
    const oldHashes = [undefined, 'h-lib-old', 'h-moved', undefined, 'h-gone'];
    const newHashes = [undefined, 'h-lib-new', 'h-moved', undefined, 'h-new'];
    const steps = planMembers(oldMembers, newMembers, oldHashes, newHashes);
    assert.deepEqual(
      steps.map((s) => [s.member.path, s.base?.path, s.content.kind]),
      [
        ['app/main.js', 'app/main.js', 'diff'],
        ['app/lib.so', 'app/lib.so', 'diff'],
        ['app/elsewhere/renamed.bin', undefined, 'copy'],
        ['app/empty', 'app/empty', 'insert'],
        ['app/new.txt', undefined, 'insert'],
      ],
    );
    const copy = steps[2]!.content;
    assert.equal(copy.kind === 'copy' && copy.from.path, 'app/moved.bin');
  });

  test('a file renamed with its version is diffed against its earlier version', () => {
    const before = [
      member('lib/libvips-cpp.so.8.17.2', 16_000),
      member('lib/libvips-cpp.so.8.16.0', 9_000), // also gone, but further in size
      member('lib/libz.so.1', 500),
      member('lib/1.2/a.js', 3000),
      member('doc/v8.md', 40_000), // gone, same shape, but 4× the size: not the same file
    ];
    const after = [
      member('lib/libvips-cpp.so.8.17.3', 16_100),
      member('lib/libz.so.1', 500), // kept path: its own base, never a rename
      member('lib/1.3/a.js', 3100),
      member('doc/v9.md', 10_000),
      member('lib/libvips.so.8.17.3', 12_000), // another name: new
    ];
    const steps = planWithoutHashes(before, after);
    assert.deepEqual(
      steps.map((s) => [
        s.member.path,
        s.base?.path,
        s.content.kind === 'diff' ? s.content.base.path : s.content.kind,
      ]),
      [
        ['lib/libvips-cpp.so.8.17.3', 'lib/libvips-cpp.so.8.17.2', 'lib/libvips-cpp.so.8.17.2'],
        ['lib/libz.so.1', 'lib/libz.so.1', 'lib/libz.so.1'],
        ['lib/1.3/a.js', 'lib/1.2/a.js', 'lib/1.2/a.js'],
        ['doc/v9.md', undefined, 'insert'],
        ['lib/libvips.so.8.17.3', undefined, 'insert'],
      ],
    );
  });

  test("a file renamed with a content hash or build id (a bundler's output) is diffed against its old version", () => {
    const before = [
      member('ui/assets/index-_g5qy0bI.js', 696_000), // Vite: base64url hash
      member('ui/assets/vendor-Bx81kQ2a.js', 300_000),
      member('ui/assets/vendor-Aa00bB1c.js', 150_000), // another vendor chunk
      member('ui/main.3f2a9c1e.js', 50_000), // webpack: hex contenthash
      member('.next/static/xK2_9aQbP7mZ/_buildManifest.js', 900), // Next.js: the build id is a directory
      member('ui/chunks/8c1e2f77.js', 10_000), // chunks named by their hash alone
      member('ui/chunks/a91b3d04.js', 20_000),
      member('ui/components/button.js', 5000), // words, not hashes
      member('ui/assets/style-Cq8vT2pL.css', 8000),
    ];
    const after = [
      member('ui/assets/index-D_ryMEPs.js', 696_500),
      member('ui/assets/vendor-Zz90kQ2c.js', 310_000),
      member('ui/main.77b0d2aa.js', 51_000),
      member('.next/static/Q7w-3Lr0cNvE/_buildManifest.js', 905),
      member('ui/chunks/5e6f7a8b.js', 19_000), // a name that is only a hash says nothing of which old chunk it was
      member('ui/components/slider.js', 5000), // another word: new
      member('ui/assets/style-Ab12cd34.js', 8000), // another extension: new
      // Two old vendor chunks share as much of its path (their hashes end alike by chance: `c.js` counts as `.js`):
      // the closer in size.
      member('ui/assets/vendor-Qr55mN0c.js', 200_000),
      member('ui/other/index-D_ryMEPs.js', 1000), // too small for any old .js with a shared path
    ];
    const steps = planWithoutHashes(before, after);
    assert.deepEqual(
      steps.map((s) => [s.member.path, s.content.kind === 'diff' ? s.content.base.path : s.content.kind]),
      [
        ['ui/assets/index-D_ryMEPs.js', 'ui/assets/index-_g5qy0bI.js'],
        ['ui/assets/vendor-Zz90kQ2c.js', 'ui/assets/vendor-Bx81kQ2a.js'],
        ['ui/main.77b0d2aa.js', 'ui/main.3f2a9c1e.js'],
        ['.next/static/Q7w-3Lr0cNvE/_buildManifest.js', '.next/static/xK2_9aQbP7mZ/_buildManifest.js'],
        ['ui/chunks/5e6f7a8b.js', 'insert'],
        ['ui/components/slider.js', 'insert'],
        ['ui/assets/style-Ab12cd34.js', 'insert'],
        ['ui/assets/vendor-Qr55mN0c.js', 'ui/assets/vendor-Aa00bB1c.js'],
        ['ui/other/index-D_ryMEPs.js', 'insert'],
      ],
    );
  });

  test('unchanged content at the same path is a copy of itself', () => {
    const steps = planMembers(oldMembers.slice(0, 2), newMembers.slice(1, 2), [undefined, 'h'], ['h']);
    assert.equal(steps[0]!.content.kind, 'copy');
  });
});

describe('reading tars in slices', () => {
  test('a tar on disk is indexed from its headers alone, as the same tar in memory', async () => {
    const tar = gunzipSync(await readFile(join(FIXTURE, 'example_app-2.0.tar.gz')));
    const path = join(dir, 'app.tar');
    await writeFile(path, tar);
    const fh = await open(path);
    try {
      const slices = new FileSlices({ fd: fh.fd, size: tar.length, path });
      const members = indexTar(slices);
      assert.ok(members && members.length > 0);
      assert.deepEqual(members, indexTar(bufferSource(tar)));
      const last = members.at(-1)!;
      assert.deepEqual(
        Buffer.from(slices.read(last.dataStart, last.dataSize)),
        tar.subarray(last.dataStart, last.dataStart + last.dataSize),
      );
    } finally {
      await fh.close();
    }
  });

  test('not a tar: undefined, so the files are diffed whole', () => {
    assert.equal(indexTar(bufferSource(new Uint8Array(700).fill(7))), undefined);
    const header = new Uint8Array(1024);
    header.set(Buffer.from('x'), 0);
    header.set(Buffer.from('00000077777'), 124); // a member larger than the file
    assert.equal(indexTar(bufferSource(header)), undefined);
  });

  test('an executable whose first block passes for a header is not a tar (its checksum does not match)', () => {
    // The shape of esbuild.exe (win32-arm64): "MZ", NULs where a tar keeps the size and "PE\0\0" at 0x80, a
    // section table with NULs there too, then a zero block of padding. Before the checksum check these were two
    // members of size 0 and the end of the archive, and the code after them was stored whole (19 × bsdiff).
    const pe = new Uint8Array(4096);
    pe.set(Buffer.from('MZ'), 0);
    pe.set(Buffer.from('PE\0\0'), 0x80);
    pe.set(Buffer.from('.idata\0\0'), 512);
    pe.fill(0x41, 1536);
    assert.equal(indexTar(bufferSource(pe)), undefined);
  });

  test("headers are accepted with either checksum a packer wrote: the unsigned sum, or old tars' signed one", () => {
    const header = (name: Uint8Array, signed: boolean): Uint8Array => {
      const tar = new Uint8Array(2048);
      tar.set(name, 0);
      tar.set(Buffer.from('0000644\0'), 100);
      tar.set(Buffer.from('00000000005\0'), 124);
      tar[156] = 0x30;
      tar.set(Buffer.from('ustar\x0000'), 257);
      tar.set(Buffer.from('hello'), 512);
      tar.fill(0x20, 148, 156);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += signed && tar[i]! >= 0x80 ? tar[i]! - 0x100 : tar[i]!;
      tar.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
      return tar;
    };
    const name = Buffer.from('café.txt'); // é is two bytes ≥ 0x80: the two sums differ
    for (const signed of [false, true]) {
      const members = indexTar(bufferSource(header(name, signed)));
      assert.deepEqual(members, [{ path: 'café.txt', headerStart: 0, dataStart: 512, dataSize: 5 }]);
    }
    const corrupt = header(name, false);
    corrupt[0] = corrupt[0]! ^ 1; // one bit of the name changed after the checksum was made
    assert.equal(indexTar(bufferSource(corrupt)), undefined);
  });

  test('a read past the end of a file that shrank is an IO_ERROR naming it', async () => {
    const path = join(dir, 'short.bin');
    await writeFile(path, new Uint8Array(100));
    const fh = await open(path);
    try {
      const slices = new FileSlices({ fd: fh.fd, size: 200, path }); // the size it had when it was opened
      assert.throws(
        () => slices.read(50, 100),
        (err) => isNotsotufError(err) && err.code === 'IO_ERROR' && err.message.includes(path),
      );
      assert.throws(() => slices.read(150, 100), RangeError);
    } finally {
      await fh.close();
    }
  });
});

describe('index tables', () => {
  test('one slot per byte up to 2^24 slots, then fewer, at most 2^25', () => {
    assert.equal(tableBits(0), 10);
    assert.equal(tableBits(1 << 20), 20);
    assert.equal(tableBits(10_178_712), 24); // esbuild: a full table
    assert.equal(tableBits(52_150_712), 24); // @swc/core: half a slot per byte
    assert.equal(tableBits(98_426_952), 25); // node: the most
    assert.equal(tableBits(1e9), 25);
  });

  test('a table given back is reused, cleared, for the next file', () => {
    const first = takeTable(1 << 12);
    first.fill(5);
    giveBackTable(first);
    const second = takeTable(1 << 10);
    assert.equal(second.buffer, first.buffer);
    assert.ok(second.every((slot) => slot === -1));
    const third = takeTable(1 << 10);
    assert.notEqual(third.buffer, first.buffer, 'a table in use is not handed out twice');
  });
});
