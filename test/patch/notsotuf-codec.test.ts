import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createArchive } from '../../src/archive/index.js';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  MAGIC,
  METHOD_BROTLI,
} from '../../src/patch/notsotuf/format.js';
import { applyPatchFile, createPatchFile } from '../../src/patch/registry.js';

const FIXTURE = new URL('../fixtures/tufup-repo-v0.10/repository/targets/', import.meta.url).pathname;
let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'notsotuf-codec-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function roundTrip(
  oldBytes: Uint8Array,
  newBytes: Uint8Array,
): Promise<{ patchSize: number; patch: string; old: string }> {
  const id = n++;
  const old = join(dir, `${id}.old`);
  const neu = join(dir, `${id}.new`);
  const patch = join(dir, `${id}.patch`);
  const out = join(dir, `${id}.out`);
  await writeFile(old, oldBytes);
  await writeFile(neu, newBytes);
  const created = await createPatchFile({ codec: 'notsotuf', oldPath: old, newPath: neu, outPath: patch });
  const applied = await applyPatchFile({
    oldPath: old,
    patchPath: patch,
    outPath: out,
    expected: { size: newBytes.length, sha256: sha(newBytes) },
  });
  assert.equal(applied.codec, 'notsotuf');
  assert.deepEqual(await readFile(out), Buffer.from(newBytes));
  return { patchSize: created.size, patch, old };
}

function random(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('notsotuf codec round trips', () => {
  const cases: [string, Buffer, Buffer][] = [
    ['empty old and new', Buffer.alloc(0), Buffer.alloc(0)],
    ['empty old', Buffer.alloc(0), random(5000, 1)],
    ['empty new', random(5000, 2), Buffer.alloc(0)],
    ['identical', random(100_000, 3), random(100_000, 3)],
    ['appended block', random(50_000, 4), Buffer.concat([random(50_000, 4), random(3000, 5)])],
    [
      'removed block',
      random(50_000, 6),
      Buffer.concat([random(50_000, 6).subarray(0, 20_000), random(50_000, 6).subarray(30_000)]),
    ],
    [
      'moved blocks',
      random(60_000, 7),
      Buffer.concat([random(60_000, 7).subarray(40_000), random(60_000, 7).subarray(0, 40_000)]),
    ],
    [
      'large zero runs',
      Buffer.alloc(2_000_000),
      Buffer.concat([Buffer.alloc(1_000_000), random(10, 8), Buffer.alloc(999_990)]),
    ],
    ['one byte', Buffer.from([1]), Buffer.from([2])],
  ];
  for (const [name, a, b] of cases) {
    test(name, async () => {
      await roundTrip(a, b);
    });
  }

  test('sparse byte changes (shifted addresses) cost far less than the data', async () => {
    const a = random(400_000, 9);
    const b = Buffer.from(a);
    for (let i = 100; i < b.length; i += 97) b[i] = (b[i]! + 1) & 0xff;
    const { patchSize } = await roundTrip(a, b);
    assert.ok(patchSize < 40_000, `patch ${patchSize} bytes for 400 KB with sparse changes`);
  });

  test('inserted code shifts the rest, whose addresses changed: the alignment follows the shift', async () => {
    const a = random(400_000, 11);
    const tail = Buffer.from(a.subarray(200_000));
    for (let i = 50; i < tail.length; i += 97) tail[i] = (tail[i]! + 3) & 0xff;
    const b = Buffer.concat([a.subarray(0, 200_000), random(5000, 12), tail]);
    const { patchSize } = await roundTrip(a, b);
    assert.ok(patchSize < 45_000, `patch ${patchSize} bytes for 400 KB shifted by 5 KB with sparse changes`);
  });

  test('property: any old/new pair round-trips', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ maxLength: 3000 }),
        async (a, b) => {
          await roundTrip(a, b);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('property: edits of a base round-trip (insert, delete, overwrite)', async () => {
    const base = random(20_000, 10);
    const edit = fc.record({ at: fc.nat(20_000), del: fc.nat(500), ins: fc.uint8Array({ maxLength: 500 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { maxLength: 8 }), async (edits) => {
        let b = Buffer.from(base);
        for (const e of edits) {
          const at = Math.min(e.at, b.length);
          b = Buffer.concat([
            b.subarray(0, at),
            Buffer.from(e.ins),
            b.subarray(Math.min(b.length, at + e.del)),
          ]);
        }
        await roundTrip(base, b);
      }),
      { numRuns: 40 },
    );
  });
});

describe('notsotuf codec on tars', () => {
  test('the tufup fixture releases: smaller than tufup bsdiff4 patches', async () => {
    const tar = async (v: string) => gunzipSync(await readFile(join(FIXTURE, `example_app-${v}.tar.gz`)));
    const pairs: [string, string, string][] = [
      ['1.0', '2.0', 'example_app-2.0.patch'],
      ['2.0', '3.0rc1', 'example_app-3.0rc1.patch'],
      ['3.0rc1', '3.0', 'example_app-3.0.patch'],
    ];
    for (const [from, to, bsdiffName] of pairs) {
      const { patchSize } = await roundTrip(await tar(from), await tar(to));
      const bsdiffSize = (await readFile(join(FIXTURE, bsdiffName))).length;
      assert.ok(patchSize <= bsdiffSize, `${from}→${to}: ${patchSize} > bsdiff4 ${bsdiffSize}`);
    }
  });

  test('tar-aware: moved, renamed, changed files, symlinks and changed headers', async () => {
    const a = join(dir, 'bundle-a');
    const b = join(dir, 'bundle-b');
    await mkdir(join(a, 'lib'), { recursive: true });
    await mkdir(join(b, 'moved', 'deeper'), { recursive: true });
    const big = random(300_000, 11);
    await writeFile(join(a, 'lib', 'engine.bin'), big);
    await writeFile(join(b, 'moved', 'deeper', 'renamed.bin'), big);
    await writeFile(join(a, 'app.js'), 'console.log("one");\n'.repeat(2000));
    await writeFile(
      join(b, 'app.js'),
      'console.log("one");\n'.repeat(1000) + 'console.log("two");\n'.repeat(1001),
    );
    await writeFile(join(b, 'new.txt'), 'new file\n', { mode: 0o755 });
    await symlink('app.js', join(b, 'link'));
    const tars: Buffer[] = [];
    for (const [bundle, name] of [
      [a, 'a.tar.gz'],
      [b, 'b.tar.gz'],
    ] as const) {
      await createArchive({ bundleDir: bundle, outFile: join(dir, name), mtime: 1_700_000_000 });
      tars.push(gunzipSync(await readFile(join(dir, name))));
    }
    const { patchSize } = await roundTrip(tars[0]!, tars[1]!);
    assert.ok(patchSize < 5_000, `renamed 300 KB file should be a copy, patch is ${patchSize} bytes`);
  });

  test('tar-aware: a run of unchanged members (headers, contents, padding) costs about one COPY', async () => {
    // 600 small files of odd sizes (so each has padding), one changed in the middle: every unchanged member's
    // header, content and padding are the old bytes at the next old offset, and merge into long COPYs.
    const bundles = [join(dir, 'many-a'), join(dir, 'many-b')];
    for (const [v, bundle] of bundles.entries()) {
      await mkdir(bundle, { recursive: true });
      for (let i = 0; i < 600; i++) {
        const body = `export const value${i} = ${i * 7919};\n`.repeat(1 + (i % 13));
        await writeFile(
          join(bundle, `m${String(i).padStart(4, '0')}.js`),
          v === 1 && i === 300 ? `${body}// v2\n` : body,
        );
      }
    }
    const tars: Buffer[] = [];
    for (const [i, bundle] of bundles.entries()) {
      await createArchive({
        bundleDir: bundle,
        outFile: join(dir, `many-${i}.tar.gz`),
        mtime: 1_700_000_000,
      });
      tars.push(gunzipSync(await readFile(join(dir, `many-${i}.tar.gz`))));
    }
    const { patchSize } = await roundTrip(tars[0]!, tars[1]!);
    // Measured: 163 bytes; 445 when each member was a header ADD, a COPY and a padding INSERT.
    assert.ok(patchSize < 250, `600 members, one changed: patch is ${patchSize} bytes`);
  });
});

describe('notsotuf codec inputs', () => {
  test('a missing old or new file is IO_ERROR naming it, and no patch is written', async () => {
    const present = join(dir, 'present.bin');
    await writeFile(present, random(5000, 3));
    const missing = join(dir, 'does-not-exist');
    const outPath = join(dir, 'missing.patch');
    for (const [oldPath, newPath] of [
      [missing, present],
      [present, missing],
    ] as const) {
      await assert.rejects(
        createPatchFile({ codec: 'notsotuf', oldPath, newPath, outPath }),
        (err) => isNotsotufError(err) && err.code === 'IO_ERROR' && err.message.includes(missing),
      );
      assert.ok(!(await readdir(dir)).includes('missing.patch'));
    }
  });
});

describe('notsotuf codec rejects bad patches', () => {
  let good: { patch: string; old: string };
  let newBytes: Buffer;
  before(async () => {
    const a = random(200_000, 12);
    newBytes = Buffer.concat([a.subarray(0, 100_000), random(20_000, 13), a.subarray(100_000)]);
    good = await roundTrip(a, newBytes);
  });

  async function expectInvalid(patchBytes: Uint8Array, label: string): Promise<void> {
    const patch = join(dir, `bad-${n++}.patch`);
    const out = join(dir, `bad-${n++}.out`);
    await writeFile(patch, patchBytes);
    await assert.rejects(
      applyPatchFile({
        oldPath: good.old,
        patchPath: patch,
        outPath: out,
        expected: { size: newBytes.length, sha256: sha(newBytes) },
      }),
      (err: unknown) => {
        assert.ok(
          isNotsotufError(err, 'PATCH_INVALID') ||
            isNotsotufError(err, 'PATCH_RESULT_MISMATCH') ||
            isNotsotufError(err, 'PATCH_CODEC_UNKNOWN'),
          `${label}: ${String(err)}`,
        );
        return true;
      },
    );
    const left = (await readdir(dir)).filter(
      (f) => f.startsWith(out.split('/').pop()!) || f.includes('.tmp'),
    );
    assert.deepEqual(left, [], `${label}: output left behind`);
  }

  test('flipped bytes anywhere', async () => {
    const bytes = await readFile(good.patch);
    for (const at of [
      0,
      5,
      16,
      20,
      24,
      33,
      41,
      49,
      HEADER_SIZE,
      HEADER_SIZE + 3,
      Math.floor(bytes.length / 2),
      bytes.length - 1,
    ]) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 0x5a;
      await expectInvalid(bad, `flip at ${at}`);
    }
  });

  test('bytes after the end of a compressed stream, inside its declared length', async () => {
    const bytes = await readFile(good.patch);
    const header = decodeHeader(bytes, bytes.length);
    const methods = new Set<number>();
    let at = HEADER_SIZE;
    for (const [i, length] of header.lengths.entries()) {
      if (length > 0) {
        methods.add(header.methods[i]!);
        const lengths = [...header.lengths] as [number, number, number, number];
        lengths[i] = length + 3;
        const bad = Buffer.concat([
          encodeHeader({ ...header, lengths }),
          bytes.subarray(HEADER_SIZE, at + length),
          Buffer.of(1, 2, 3),
          bytes.subarray(at + length),
        ]);
        const out = join(dir, `trailing-${i}.out`);
        await writeFile(join(dir, 'trailing.patch'), bad);
        await assert.rejects(
          applyPatchFile({ oldPath: good.old, patchPath: join(dir, 'trailing.patch'), outPath: out }),
          (e) => isNotsotufError(e, 'PATCH_INVALID') && /after the end/.test(e.message),
          `stream ${i} (method ${header.methods[i]})`,
        );
        assert.ok(!(await readdir(dir)).some((f) => f.startsWith(`trailing-${i}.out`)), 'no output left');
      }
      at += length;
    }
    // Brotli is the one that stops at its end marker by itself: the case must be here.
    assert.ok(methods.has(METHOD_BROTLI), `methods ${[...methods]}`);
  });

  test('truncated at many points', async () => {
    const bytes = await readFile(good.patch);
    for (const len of [
      0,
      8,
      MAGIC.length,
      HEADER_SIZE - 1,
      HEADER_SIZE,
      HEADER_SIZE + 1,
      bytes.length - 10,
      bytes.length - 1,
    ]) {
      await expectInvalid(bytes.subarray(0, len), `truncated to ${len}`);
    }
  });

  test('absurd declared sizes fail before any work', async () => {
    const bytes = await readFile(good.patch);
    for (const offset of [16, 24, 32, 40, 48]) {
      const bad = Buffer.from(bytes);
      bad.writeBigUInt64LE(2n ** 62n, offset);
      const before = process.memoryUsage().rss;
      await expectInvalid(bad, `size field at ${offset}`);
      assert.ok(process.memoryUsage().rss - before < 64 << 20, 'no large allocation');
    }
  });

  test('a patch of another format version says which versions this notsotuf reads', async () => {
    const { patch, old } = await roundTrip(random(20_000, 13), random(20_000, 14));
    const bytes = await readFile(patch);
    bytes[MAGIC.length - 1] = 1;
    await writeFile(patch, bytes);
    await assert.rejects(
      applyPatchFile({ oldPath: old, patchPath: patch, outPath: join(dir, 'v1.out') }),
      (e) => isNotsotufError(e, 'PATCH_INVALID') && /format version 1 is not supported/.test(e.message),
    );
  });

  test('a result size other than the signed one is refused', async () => {
    const out = join(dir, 'wrong-size.out');
    await assert.rejects(
      applyPatchFile({
        oldPath: good.old,
        patchPath: good.patch,
        outPath: out,
        expected: { size: 5, sha256: sha(Buffer.alloc(5)) },
      }),
      (err: unknown) => isNotsotufError(err, 'PATCH_INVALID'),
    );
    await assert.rejects(readFile(out));
  });

  test('a different base file is refused', async () => {
    const other = join(dir, 'other-base');
    await writeFile(other, random(200_000, 99));
    await assert.rejects(
      applyPatchFile({
        oldPath: other,
        patchPath: good.patch,
        outPath: join(dir, 'other.out'),
        expected: { size: newBytes.length, sha256: sha(newBytes) },
      }),
      (err: unknown) => isNotsotufError(err, 'PATCH_RESULT_MISMATCH'),
    );
  });
});
