import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createArchive } from '../../src/archive/index.js';
import { adaptiveMatcher } from '../../src/patch/notsotuf/adaptive-matcher.js';
import { createNotsotufPatch } from '../../src/patch/notsotuf/create.js';
import { matchPacked, type PackedFileMatches } from '../../src/patch/notsotuf/file-matches.js';
import { MatchAhead, MIN_MATCH_AHEAD } from '../../src/patch/notsotuf/match-ahead.js';
import type { MatchJob } from '../../src/patch/notsotuf/match-protocol.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import { pseudoRandom, pseudoText, tempDir } from './helpers.js';

const twoCores = availableParallelism() >= 2;
const skipOneCore = twoCores ? false : 'needs two cores: this machine has one, so no worker is started';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-parallel-'));
});
after(async () => cleanup());

/** `base` with a few bytes changed every `every` bytes and a block inserted in the middle: a typical new build. */
function edited(base: Uint8Array, seed: number, every = 4096): Uint8Array {
  const out = Buffer.from(base);
  for (let i = seed % every; i < out.length; i += every) out[i] = (out[i]! + 1) & 0xff;
  const mid = out.length >> 1;
  return Buffer.concat([out.subarray(0, mid), pseudoRandom(3000, seed), out.subarray(mid)]);
}

/** Binary-looking content (NUL bytes early, so the aligned matcher is used). */
function binary(length: number, seed: number): Uint8Array {
  const bytes = pseudoRandom(length, seed);
  for (let i = 0; i < length; i += 97) bytes[i] = 0;
  return bytes;
}

describe('matching ahead on a worker thread', { skip: skipOneCore }, () => {
  async function withFiles<T>(
    oldBytes: Uint8Array,
    newBytes: Uint8Array,
    run: (files: Parameters<typeof MatchAhead.start>[0]) => Promise<T>,
  ): Promise<T> {
    const oldPath = join(dir, `old-${Math.random()}`);
    const newPath = join(dir, `new-${Math.random()}`);
    await writeFile(oldPath, oldBytes);
    await writeFile(newPath, newBytes);
    const oldFile = await open(oldPath);
    const newFile = await open(newPath);
    try {
      return await run({
        old: { fd: oldFile.fd, size: oldBytes.length, path: oldPath },
        neu: { fd: newFile.fd, size: newBytes.length, path: newPath },
      });
    } finally {
      await oldFile.close();
      await newFile.close();
    }
  }

  test('the worker matches the files after the first, the same matches as found on this thread', async () => {
    const parts = [binary(1_200_000, 1), pseudoText(1_300_000, 2), binary(1_100_000, 3)];
    const newParts = parts.map((p, i) => edited(p, i + 5));
    const oldBytes = Buffer.concat(parts);
    const newBytes = Buffer.concat(newParts);
    const jobs: MatchJob[] = [];
    let oldAt = 0;
    let newAt = 0;
    parts.forEach((p, i) => {
      jobs.push({ oldStart: oldAt, oldSize: p.length, newStart: newAt, newSize: newParts[i]!.length });
      oldAt += p.length;
      newAt += newParts[i]!.length;
    });
    await withFiles(oldBytes, newBytes, async (files) => {
      const ahead = MatchAhead.start(files, jobs);
      assert.ok(ahead, 'a worker is started for files of 1 MB and more');
      try {
        await ahead.finished;
        assert.equal(ahead.take(0), undefined, 'the first file is always matched on the main thread');
        for (const i of [1, 2]) {
          const taken: Promise<PackedFileMatches | undefined> | undefined = ahead.take(i);
          assert.ok(taken, `file ${i} was claimed by the worker`);
          const found: PackedFileMatches | undefined = await taken;
          assert.ok(found, `the worker reported matches for file ${i}`);
          const expected = matchPacked(parts[i]!, newParts[i]!, adaptiveMatcher);
          assert.ok(found.matches.length > 0);
          assert.deepEqual(found, expected);
        }
      } finally {
        await ahead.close();
      }
    });
  });

  test('a file the worker cannot read is left to the main thread', async () => {
    const bytes = binary(1_200_000, 7);
    const jobs: MatchJob[] = [
      { oldStart: 0, oldSize: 1000, newStart: 0, newSize: 1000 },
      // Beyond the end of both files: the worker's read fails.
      { oldStart: 5_000_000, oldSize: MIN_MATCH_AHEAD, newStart: 5_000_000, newSize: MIN_MATCH_AHEAD },
    ];
    await withFiles(bytes, bytes, async (files) => {
      const ahead = MatchAhead.start(files, jobs);
      assert.ok(ahead);
      try {
        await ahead.finished;
        assert.equal(await ahead.take(1), undefined);
      } finally {
        await ahead.close();
      }
    });
  });

  test('no worker when only the first file or small files changed', async () => {
    const bytes = binary(100, 1);
    await withFiles(bytes, bytes, async (files) => {
      const small = { oldStart: 0, oldSize: 100, newStart: 0, newSize: 100 };
      const large = { oldStart: 0, oldSize: 100, newStart: 0, newSize: MIN_MATCH_AHEAD };
      assert.equal(MatchAhead.start(files, [large, small, small]), undefined);
      assert.equal(MatchAhead.start(files, []), undefined);
    });
  });
});

describe('a patch made on two threads', { skip: skipOneCore }, () => {
  test('is byte for byte the patch made on one thread, and rebuilds the new tar', async () => {
    const a = join(dir, 'bundle-a');
    const b = join(dir, 'bundle-b');
    for (const d of [a, b]) await mkdir(join(d, 'lib'), { recursive: true });
    const files: [string, Uint8Array][] = [
      ['bin/app', binary(1_500_000, 11)],
      ['lib/core.so', binary(1_200_000, 12)],
      ['lib/bundle.js', pseudoText(1_100_000, 13)],
      ['lib/small.js', pseudoText(20_000, 14)],
      ['lib/plugin.so', binary(1_050_000, 15)],
    ];
    await mkdir(join(a, 'bin'));
    await mkdir(join(b, 'bin'));
    for (const [i, [path, bytes]] of files.entries()) {
      await writeFile(join(a, path), bytes);
      await writeFile(join(b, path), edited(bytes, i + 20));
    }
    const tars: string[] = [];
    for (const [bundle, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      await createArchive({ bundleDir: bundle, outFile: join(dir, `${name}.tar.gz`), mtime: 1_700_000_000 });
      tars.push(join(dir, `${name}.tar`));
      await writeFile(tars.at(-1)!, gunzipSync(await readFile(join(dir, `${name}.tar.gz`))));
    }
    const [oldPath, newPath] = tars as [string, string];
    const patches: Buffer[] = [];
    for (const parallel of [true, false]) {
      const outPath = join(dir, `ab-${parallel}.patch`);
      await createNotsotufPatch({ oldPath, newPath, outPath }, { matcher: adaptiveMatcher, parallel });
      patches.push(await readFile(outPath));
    }
    assert.ok(patches[0]!.equals(patches[1]!), 'the same patch from one and two threads');
    const newBytes = await readFile(newPath);
    const out = join(dir, 'ab.out');
    await applyPatchFile({
      oldPath,
      patchPath: join(dir, 'ab-true.patch'),
      outPath: out,
      expected: { size: newBytes.length, sha256: createHash('sha256').update(newBytes).digest('hex') },
    });
    assert.ok((await readFile(out)).equals(newBytes));
    assert.ok(patches[0]!.length < 200_000, `patch of ${patches[0]!.length} bytes for ~6 KB of edits`);
  });
});
