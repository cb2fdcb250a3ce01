/** Patches flow both ways between us and Debian's bsdiff/bspatch (the same BSDIFF40 format as tufup's bsdiff4). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { bsdiff4Codec } from '../../src/patch/index.js';
import {
  buildPatch,
  concat,
  FIXTURE_TARGETS,
  hasTool,
  pseudoRandom,
  pseudoText,
  tempDir,
} from './helpers.js';

const skip =
  hasTool('bspatch') && hasTool('bsdiff')
    ? false
    : 'bsdiff/bspatch not installed (apt-get install -y bsdiff)';

/** Old/new pairs with the kinds of change releases make. */
function pairs(): Array<[string, Uint8Array, Uint8Array]> {
  const base = pseudoRandom(400_000, 41);
  const text = pseudoText(300_000, 42);
  const ins = pseudoRandom(5000, 43);
  return [
    ['inserted block', base, concat(base.subarray(0, 100_000), ins, base.subarray(100_000))],
    ['removed block', base, concat(base.subarray(0, 150_000), base.subarray(170_000))],
    [
      'moved blocks',
      base,
      concat(base.subarray(200_000), base.subarray(50_000, 200_000), base.subarray(0, 50_000)),
    ],
    ['scattered byte edits', text, text.map((b, i) => (i % 997 === 0 ? b ^ 0x20 : b))],
    [
      'zero runs grow',
      concat(text.subarray(0, 1000), new Uint8Array(100_000)),
      concat(new Uint8Array(150_000), text),
    ],
    ['empty old', new Uint8Array(0), text.subarray(0, 5000)],
    ['empty new', text.subarray(0, 5000), new Uint8Array(0)],
    ['identical', text, text],
  ];
}

describe('bsdiff4 interop with Debian bsdiff/bspatch', { skip }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const cases: Array<[string, string, string]> = [];
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const tar = async (v: string): Promise<string> => {
      const path = join(dir, `${v}.tar`);
      await writeFile(path, gunzipSync(await readFile(join(FIXTURE_TARGETS, `example_app-${v}.tar.gz`))));
      return path;
    };
    cases.push(['fixture tars 1.0 -> 2.0', await tar('1.0'), await tar('2.0')]);
    cases.push(['fixture tars 2.0 -> 3.0rc1', join(dir, '2.0.tar'), await tar('3.0rc1')]);
    for (const [name, a, b] of pairs()) {
      const slug = name.replace(/ /g, '-');
      await writeFile(join(dir, `${slug}.old`), a);
      await writeFile(join(dir, `${slug}.new`), b);
      cases.push([name, join(dir, `${slug}.old`), join(dir, `${slug}.new`)]);
    }
  });
  after(() => cleanup());

  test('bspatch applies our patches byte-exactly', async () => {
    for (const [name, oldPath, newPath] of cases) {
      const patchPath = `${newPath}.ours.patch`;
      await bsdiff4Codec.create({ oldPath, newPath, outPath: patchPath });
      const outPath = `${newPath}.bspatch`;
      execFileSync('bspatch', [oldPath, outPath, patchPath]);
      assert.deepEqual(await readFile(outPath), await readFile(newPath), name);
    }
  });

  test('we apply bsdiff patches byte-exactly', async () => {
    for (const [name, oldPath, newPath] of cases) {
      // Debian's bsdiff refuses empty files (it fails allocating 0 bytes).
      if (name === 'empty old' || name === 'empty new') continue;
      const patchPath = `${newPath}.debian.patch`;
      execFileSync('bsdiff', [oldPath, newPath, patchPath]);
      const outPath = `${newPath}.ours`;
      const expectedSize = (await readFile(newPath)).length;
      await bsdiff4Codec.apply({ oldPath, patchPath, outPath, expectedSize });
      assert.deepEqual(await readFile(outPath), await readFile(newPath), name);
    }
  });

  test('old bytes past the end of the old file add 0, exactly as bspatch does', async () => {
    const oldPath = join(dir, 'short.old');
    await writeFile(oldPath, pseudoRandom(100, 44));
    // Adds that straddle the end of the old file or lie entirely past it. (Positions before the start are not
    // compared: Debian's bspatch 4.3-23 reads heap memory there; tufup's bsdiff4 adds 0, see the round-trip tests.)
    const patch = buildPatch({
      controls: [
        [50, 10, 30],
        [60, 0, 150],
        [100, 5, -300],
        [90, 0, 0],
      ],
      diff: pseudoRandom(300, 45),
      extra: pseudoRandom(15, 46),
      newSize: 315,
    });
    const patchPath = join(dir, 'edges.patch');
    await writeFile(patchPath, patch);
    execFileSync('bspatch', [oldPath, join(dir, 'edges.bspatch'), patchPath]);
    await bsdiff4Codec.apply({ oldPath, patchPath, outPath: join(dir, 'edges.ours') });
    assert.deepEqual(await readFile(join(dir, 'edges.ours')), await readFile(join(dir, 'edges.bspatch')));
  });
});
