import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createArchive } from '../../src/archive/index.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { MAGIC, OP_COPY, OP_DIGESTS, OP_FILTER, OP_PAGES, zigzag } from '../../src/patch/notsotuf/format.js';
import { signatureDigests } from '../../src/patch/notsotuf/macho-signature.js';
import { PageHasher, pageHashTypes } from '../../src/patch/notsotuf/page-hashes.js';
import { preferNative } from '../../src/patch/notsotuf/stream-compressor.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import {
  arm64Program,
  handMadeNotsotufPatch,
  notsotufRoundTrip,
  notsotufOp as op,
  pseudoRandom,
  signMachO,
  tempDir,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-signature-'));
});
after(() => cleanup());

const sha = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest();
const digestsOf = (b: Buffer) => signatureDigests((at, length) => b.subarray(at, at + length), b.length);

describe('page hashing (as data)', () => {
  test('digests of every page, fed in any pieces; the last page shorter', () => {
    const data = randomBytes(5 * 4096 + 123);
    for (const piece of [1, 1000, 4096, 5000, data.length]) {
      const hasher = new PageHasher(12, data.length, (1 << 1) | (1 << 2) | (1 << 3));
      for (let at = 0; at < data.length; at += piece) {
        const part = data.subarray(at, at + piece);
        hasher.update(part, part.length);
      }
      assert.ok(hasher.done);
      for (let p = 0; p < 6; p++) {
        const page = data.subarray(p * 4096, (p + 1) * 4096);
        assert.ok(hasher.digestsOf(1, p, 1).equals(sha('sha1', page)), `sha1 page ${p}, pieces of ${piece}`);
        assert.ok(hasher.digestsOf(2, p, 1).equals(sha('sha256', page)));
        assert.ok(hasher.digestsOf(3, p, 1).equals(sha('sha256', page).subarray(0, 20)), 'sha256 cut to 20');
      }
      assert.equal(hasher.digestsOf(2, 0, 6).length, 6 * 32);
    }
  });

  test('only complete pages and hashed types have digests; masks and page sizes are checked', () => {
    const hasher = new PageHasher(12, 3 * 4096, 1 << 2);
    hasher.update(Buffer.alloc(4097), 4097);
    assert.equal(hasher.digestsOf(2, 0, 1).length, 32);
    for (const [type, first, count] of [
      [2, 1, 1], // the second page is not complete
      [2, 0, 2],
      [1, 0, 1], // SHA-1 was not asked for
      [2, 0, 0],
    ] as const)
      assert.throws(() => hasher.digestsOf(type, first, count), isNotsotufError);
    assert.deepEqual(pageHashTypes((1 << 2) | (1 << 4)), [2, 4]);
    for (const mask of [0, 1, 1 << 5, (1 << 2) | (1 << 7)])
      assert.equal(pageHashTypes(mask), undefined, `${mask}`);
    for (const shift of [11, 17]) assert.throws(() => new PageHasher(shift, 100, 1 << 2), isNotsotufError);
  });
});

describe('Mach-O code signatures (as data)', () => {
  const program = arm64Program(false);

  test('the slots of a SHA-256 and a SHA-1 code directory, checked against the pages', () => {
    const signed = signMachO(program, [2, 1], randomBytes(3000));
    const found = digestsOf(signed)!;
    assert.equal(found.pageShift, 12);
    assert.equal(found.codeLimit, Math.ceil(program.length / 16) * 16);
    assert.equal(found.types, (1 << 2) | (1 << 1));
    assert.deepEqual(
      found.slots.map((s) => [s.type, s.size, s.count]),
      [
        [2, 32, Math.ceil(found.codeLimit / 4096)],
        [1, 20, Math.ceil(found.codeLimit / 4096)],
      ],
    );
    const first = found.slots[0]!;
    assert.ok(signed.subarray(first.start, first.start + 32).equals(sha('sha256', signed.subarray(0, 4096))));
  });

  test('no signature, a stale digest, a broken blob: nothing (or only the directories that hold)', () => {
    assert.equal(digestsOf(program), undefined, 'unsigned');
    const signed = signMachO(program, [2, 1]);
    const [sha256, sha1] = digestsOf(signed)!.slots;
    const stale = Buffer.from(signed);
    stale[sha1!.start + 5]! ^= 1;
    assert.deepEqual(
      digestsOf(stale)!.slots.map((s) => s.type),
      [2],
      'a directory whose digests are not the pages is left to the diff',
    );
    stale[sha256!.start]! ^= 1;
    assert.equal(digestsOf(stale), undefined);
    const broken = Buffer.from(signed);
    broken.writeUInt32BE(0, Math.ceil(program.length / 16) * 16); // the SuperBlob's magic
    assert.equal(digestsOf(broken), undefined);
  });
});

describe('signed Mach-O patches', () => {
  test('page digests are recomputed by the applier: version 6, byte-identical, smaller', async () => {
    const oldFile = signMachO(arm64Program(false), [2, 1], randomBytes(2000));
    const newFile = signMachO(arm64Program(true), [2, 1], randomBytes(2000));
    const signed = await notsotufRoundTrip(join(dir, String(n++)), oldFile, newFile);
    assert.equal((await readFile(signed.patch))[MAGIC.length - 1], 6);
    // The same files with their signature's magic broken: the digests are diffed like any bytes.
    const unsigned = (b: Buffer) => {
      const c = Buffer.from(b);
      c.writeUInt32BE(0, c.readUInt32LE(40));
      return c;
    };
    const plain = await notsotufRoundTrip(join(dir, String(n++)), unsigned(oldFile), unsigned(newFile));
    assert.equal((await readFile(plain.patch))[MAGIC.length - 1], 5);
    const digestBytes = 52 * Math.ceil(newFile.readUInt32LE(40) / 4096);
    assert.ok(signed.size < plain.size - digestBytes / 2, `${signed.size} vs ${plain.size}`);
  });
});

describe('signed Mach-O in a tar', () => {
  test('beside a large changed file matched on the worker thread: byte-identical, version 6', async () => {
    // Two changed members over 1 MiB, so the second is matched ahead on a worker (match-ahead.ts) while the
    // signed one's digest parts, which have no old bytes, are emitted on the main thread.
    const bundles = ['a', 'b'].map((v) => join(dir, `bundle-${v}`));
    for (const [i, bundle] of bundles.entries()) {
      await mkdir(join(bundle, 'bin'), { recursive: true });
      const grow = i === 1;
      const app = signMachO(Buffer.concat([arm64Program(grow), Buffer.from(pseudoRandom(1_200_000, 5))]));
      await writeFile(join(bundle, 'bin', 'app'), app);
      const data = Buffer.from(pseudoRandom(1_500_000, 9));
      if (grow) data.fill(1, 700_000, 700_100);
      await writeFile(join(bundle, 'data.bin'), data);
    }
    const tars: Buffer[] = [];
    for (const bundle of bundles) {
      await createArchive({ bundleDir: bundle, outFile: `${bundle}.tar.gz`, mtime: 1_700_000_000 });
      tars.push(gunzipSync(await readFile(`${bundle}.tar.gz`)));
    }
    const { patch } = await notsotufRoundTrip(join(dir, String(n++)), tars[0]!, tars[1]!);
    assert.equal((await readFile(patch))[MAGIC.length - 1], 6);
  });
});

describe('hostile page digests', () => {
  const base = Buffer.alloc(8192, 3);
  const copyAll = op(OP_COPY, zigzag(0), 8192);

  async function rejects(version: number, ops: number[], newSize: number): Promise<void> {
    const { old, patch } = await handMadeNotsotufPatch(join(dir, `h${n++}`), version, base, newSize, ops);
    const out = join(dir, `h${n++}.out`);
    await assert.rejects(applyPatchFile({ oldPath: old, patchPath: patch, outPath: out }), (err) => {
      assert.ok(isNotsotufError(err) && err.code === 'PATCH_INVALID', String(err));
      return true;
    });
    assert.ok(!(await readdir(dir)).includes(`h${n - 1}.out`), 'nothing is left behind');
  }

  test('a well-formed use applies: two pages hashed, their SHA-256 digests output', async () => {
    const ops = [...op(OP_PAGES, 12, 8192, 1 << 2), ...copyAll, ...op(OP_DIGESTS, 2, 0, 2)];
    const { old, patch } = await handMadeNotsotufPatch(join(dir, `h${n++}`), 6, base, 8192 + 64, ops);
    const out = join(dir, `h${n++}.out`);
    await applyPatchFile({ oldPath: old, patchPath: patch, outPath: out });
    const page = sha('sha256', base.subarray(0, 4096));
    assert.ok((await readFile(out)).equals(Buffer.concat([base, page, page])));
  });

  test('malformed PAGES and DIGESTS are PATCH_INVALID and leave nothing', async () => {
    const digests = op(OP_DIGESTS, 2, 0, 2);
    await rejects(5, [...op(OP_PAGES, 12, 8192, 1 << 2), ...copyAll, ...digests], 8192 + 64);
    await rejects(6, [...copyAll, ...digests], 8192 + 64); // no PAGES
    await rejects(6, [...op(OP_PAGES, 11, 8192, 1 << 2), ...copyAll, ...digests], 8192 + 64); // page size
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 6), ...copyAll, ...digests], 8192 + 64); // type
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 2), ...digests, ...copyAll], 8192 + 64); // pages not done
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 2), ...copyAll, ...op(OP_DIGESTS, 1, 0, 2)], 8192 + 40);
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 2), ...copyAll, ...op(OP_DIGESTS, 2, 0, 3)], 8192 + 96);
    await rejects(6, [...op(OP_PAGES, 12, 9000, 1 << 2), ...copyAll], 8192); // past the result
    // A huge declared result and PAGES over all of it: nothing is allocated by those sizes; the ops run out.
    await rejects(6, [...op(OP_PAGES, 12, 2 ** 40, 1 << 4), ...copyAll], 2 ** 40);
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 2), ...op(OP_PAGES, 12, 100, 1 << 2), ...copyAll], 8192);
    await rejects(
      6,
      [
        ...op(OP_PAGES, 12, 8192, 1 << 2),
        ...copyAll,
        ...op(OP_FILTER, 4, 4, 64, zigzag(-8192), 64),
        ...digests,
      ],
      8192 + 64,
    );
    await rejects(6, [...op(OP_PAGES, 12, 8192, 1 << 2), ...copyAll, ...digests], 8192 + 32); // past the result
  });
});

test('preferNative: brotli instead of LZMA when all LZMA streams have it and it costs under 1 % of the patch', () => {
  const s = (length: number, method: 0 | 1 | 2, brotli?: number) => ({
    data: new Uint8Array(length),
    method,
    ...(brotli === undefined ? {} : { brotli: new Uint8Array(brotli) }),
  });
  const methods = (streams: ReturnType<typeof preferNative>) => streams.map((x) => [x.method, x.data.length]);
  assert.deepEqual(methods(preferNative([s(4000, 0), s(50_000, 1), s(7000, 2, 7200)])), [
    [0, 4000],
    [1, 50_000],
    [0, 7200],
  ]);
  // 800 bytes more is over 1 % of 61,800: LZMA stays.
  assert.deepEqual(methods(preferNative([s(4000, 0), s(50_000, 1), s(7000, 2, 7800)]))[2], [2, 7000]);
  // One LZMA stream without a brotli result: none switches.
  assert.deepEqual(
    methods(preferNative([s(4000, 2, 4010), s(50_000, 2), s(7000, 0)])).map(([m]) => m),
    [2, 2, 0],
  );
});
