import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createArchive, type ExtractProgress, extractTar, gunzipToFile } from '../../src/archive/index.js';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  bigPayload,
  describeTree,
  FIXTURE_DIR,
  LONG_NAME,
  LONG_SPLITTABLE,
  makeBundle,
  tempDir,
  VARIANT_A,
} from './helpers.js';
import { dir, file, gnuLongName, hardlink, pax, rawTar, symlink } from './raw-tar.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('notsotuf-extract-'));
});
after(() => cleanup());

/** A fresh case dir; `dest` inside it does not exist yet. */
async function caseDir(): Promise<{ base: string; dest: string }> {
  const base = join(root, `case-${n++}`);
  await mkdir(base);
  return { base, dest: join(base, 'dest') };
}

async function writeTar(base: string, tar: Buffer): Promise<string> {
  const path = join(base, 'archive.tar');
  await writeFile(path, tar);
  return path;
}

/** Everything a tree holds, root included: type, permission bits, contents hash or link target. */
async function snapshot(top: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const abs = rel === '' ? top : join(top, rel);
  if (rel === '') out.set('.', `dir ${((await stat(top)).mode & 0o7777).toString(8)}`);
  for (const name of (await readdir(abs)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(top, path));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.set(path, `symlink -> ${await readlink(join(top, path))}`);
    else if (st.isDirectory()) {
      out.set(path, `dir ${mode}`);
      for (const [k, v] of await snapshot(top, path)) out.set(k, v);
    } else {
      const hash = createHash('sha256')
        .update(await readFile(join(top, path)))
        .digest('hex');
      out.set(path, `file ${mode} ${hash}`);
    }
  }
  return out;
}

describe('extractTar on tufup 0.10 archives', () => {
  for (const version of ['1.0', '2.0', '3.0rc1', '3.0']) {
    test(`example_app-${version}.tar.gz extracts to bundles/${version}`, async () => {
      const { base, dest } = await caseDir();
      const tarPath = join(base, 'archive.tar');
      const archive = join(FIXTURE_DIR, 'repository', 'targets', `example_app-${version}.tar.gz`);
      const { size } = await gunzipToFile(archive, tarPath);
      const result = await extractTar(tarPath, dest, { maxTarSize: size });

      const expected = await snapshot(join(FIXTURE_DIR, 'bundles', version));
      assert.deepEqual(await snapshot(dest), expected);
      const count = (kind: string) => [...expected.values()].filter((v) => v.startsWith(kind)).length;
      assert.equal(result.files, count('file'));
      assert.equal(result.symlinks, count('symlink'));
      assert.equal(result.dirs, count('dir'), 'every directory, ./ included, is listed in tufup archives');
      assert.equal(result.hardlinks, 0);
      const linkTarget = await readlink(join(dest, 'example_app'));
      assert.equal(linkTarget, 'bin/example_app.sh');
      if (version === '1.0') {
        // tufup stamped 1.0's members with 2024-01-01T12:00:00Z.
        assert.equal((await stat(join(dest, 'README.txt'))).mtimeMs, 1704110400_000);
        assert.equal(
          (await stat(join(dest, 'assets'))).mtimeMs,
          1704110400_000,
          'dir mtime set after contents',
        );
        assert.equal((await lstat(join(dest, 'example_app'))).mtimeMs, 1704110400_000, 'symlink mtime');
      }
    });
  }
});

describe('extractTar round trips', () => {
  test('createArchive → extractTar gives the same tree (nested, executable, symlinks, long names)', async () => {
    const { base, dest } = await caseDir();
    const bundle = join(base, 'bundle');
    await makeBundle(bundle, bigPayload(), VARIANT_A);
    const archive = join(base, 'app.tar.gz');
    const made = await createArchive({ bundleDir: bundle, outFile: archive });
    const tarPath = join(base, 'app.tar');
    await gunzipToFile(archive, tarPath);
    const result = await extractTar(tarPath, dest, { maxTarSize: made.tarSize });
    assert.deepEqual(await describeTree(dest), await describeTree(bundle));
    assert.equal(result.files + result.dirs + result.symlinks, made.entries);
    assert.ok((await stat(join(dest, LONG_SPLITTABLE))).isFile());
    assert.ok((await stat(join(dest, 'long', LONG_NAME))).isFile());
    assert.equal((await stat(join(dest, 'bin', 'run.sh'))).mode & 0o777, 0o755);
  });

  for (const format of ['gnu', 'pax', 'ustar']) {
    test(`an archive written by GNU tar --format=${format} extracts correctly`, async () => {
      const { base, dest } = await caseDir();
      const src = join(base, 'src');
      const longDir = 'd'.repeat(format === 'ustar' ? 80 : 120); // ustar holds link targets up to 100 bytes
      await mkdir(join(src, longDir, 'sub'), { recursive: true });
      await writeFile(join(src, longDir, 'sub', 'file.txt'), 'long\n');
      await writeFile(join(src, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
      await writeFile(join(src, 'original'), 'shared\n');
      await link(join(src, 'original'), join(src, 'twin'));
      execFileSync('ln', ['-s', `${longDir}/sub/file.txt`, join(src, 'shortcut')]);
      const tarPath = join(base, 'gnu.tar');
      execFileSync('tar', [`--format=${format}`, '-cf', tarPath, '-C', src, '.']);

      const result = await extractTar(tarPath, dest);
      assert.deepEqual(await describeTree(dest), await describeTree(src));
      assert.equal(result.hardlinks, 1, 'GNU tar stores the second name of a file as a hard link');
      assert.equal((await stat(join(dest, 'twin'))).ino, (await stat(join(dest, 'original'))).ino);
    });
  }
});

describe('extractTar modes, times and formats', () => {
  test('strips setuid, setgid and sticky bits', async () => {
    const { base, dest } = await caseDir();
    const tar = rawTar([dir('./', { mode: 0o1777 }), file('suid', 'x', { mode: 0o6755 })]);
    await extractTar(await writeTar(base, tar), dest);
    assert.equal((await stat(join(dest, 'suid'))).mode & 0o7777, 0o755);
    assert.equal((await stat(dest)).mode & 0o7777, 0o777);
  });

  test('a read-only directory gets its mode after its contents', async () => {
    const { base, dest } = await caseDir();
    const tar = rawTar([
      dir('ro/', { mode: 0o555 }),
      file('ro/inner.txt', 'in'),
      dir('ro/sub/', { mode: 0o500 }),
    ]);
    await extractTar(await writeTar(base, tar), dest);
    assert.equal((await stat(join(dest, 'ro'))).mode & 0o777, 0o555);
    assert.equal((await stat(join(dest, 'ro', 'sub'))).mode & 0o777, 0o500);
    assert.equal(await readFile(join(dest, 'ro', 'inner.txt'), 'utf8'), 'in');
  });

  test('unlisted parents are created with 0755; a directory listed after its contents is fine', async () => {
    const { base, dest } = await caseDir();
    const tar = rawTar([file('x/y/z.txt', 'z', { mode: 0o600 }), dir('x/', { mode: 0o750 })]);
    const result = await extractTar(await writeTar(base, tar), dest);
    assert.deepEqual(
      await snapshot(dest),
      new Map([
        ['.', 'dir 755'],
        ['x', 'dir 750'],
        ['x/y', 'dir 755'],
        ['x/y/z.txt', `file 600 ${createHash('sha256').update('z').digest('hex')}`],
      ]),
    );
    assert.deepEqual(result, { files: 1, dirs: 1, symlinks: 0, hardlinks: 0, bytes: 1 });
  });

  test('PAX path, size and mtime; GNU long names; base-256 sizes; v7 headers; global headers ignored', async () => {
    const { base, dest } = await caseDir();
    const long = `${'p'.repeat(150)}.txt`;
    const tar = rawTar([
      { name: 'pax_global_header', type: 'g', data: Buffer.from('20 path=ignored.txt\n') },
      pax({ path: long, mtime: '1600000000.5', comment: 'ignored' }),
      file('truncated-name', 'pax'),
      pax({ size: '5' }),
      file('sized', 'five!', { size: 0 }),
      gnuLongName(`gnu-${'g'.repeat(120)}`),
      file('short', 'gnu', { magic: 'gnu' }),
      file('b256', 'base-256', { base256Size: true }),
      { name: 'old-dir/', type: '\u0000', magic: 'v7', mode: 0o755 },
      file('old-dir/old.txt', 'v7', { magic: 'v7', type: '\u0000' }),
      hardlink('again', 'sized'),
    ]);
    const result = await extractTar(await writeTar(base, tar), dest);
    assert.deepEqual((await readdir(dest)).sort(), [
      'again',
      'b256',
      `gnu-${'g'.repeat(120)}`,
      'old-dir',
      long,
      'sized',
    ]);
    assert.equal(await readFile(join(dest, long), 'utf8'), 'pax');
    assert.equal((await stat(join(dest, long))).mtimeMs, 1600000000_500);
    assert.equal(await readFile(join(dest, 'sized'), 'utf8'), 'five!');
    assert.equal(await readFile(join(dest, 'again'), 'utf8'), 'five!');
    assert.equal(await readFile(join(dest, 'b256'), 'utf8'), 'base-256');
    assert.equal(await readFile(join(dest, 'old-dir', 'old.txt'), 'utf8'), 'v7');
    assert.deepEqual(result, { files: 5, dirs: 1, symlinks: 0, hardlinks: 1, bytes: 21 });
  });

  test('an archive without end blocks ends at end of file; a symlink may dangle inside', async () => {
    const { base, dest } = await caseDir();
    const tar = rawTar([file('a', 'a'), symlink('later', 'not-there')], { end: false });
    const result = await extractTar(await writeTar(base, tar), dest);
    assert.equal(result.files, 1);
    assert.equal(await readlink(join(dest, 'later')), 'not-there');
  });

  test('reports progress up to the tar size; maxTarSize equal to the size is fine', async () => {
    const { base, dest } = await caseDir();
    const tar = rawTar([file('big', Buffer.alloc(300_000, 1)), file('small', 's')]);
    const seen: ExtractProgress[] = [];
    await extractTar(await writeTar(base, tar), dest, {
      maxTarSize: tar.length,
      onProgress: (p) => seen.push(p),
    });
    assert.ok(seen.length > 3, 'progress while a big file is written');
    assert.ok(seen.every((p, i) => p.total === tar.length && (i === 0 || p.bytes >= seen[i - 1]!.bytes)));
    assert.ok(seen.at(-1)!.bytes <= tar.length);
  });
});

describe('extractTar arguments and abort', () => {
  test('refuses an existing destination and leaves it alone', async () => {
    const { base, dest } = await caseDir();
    await mkdir(dest);
    await writeFile(join(dest, 'keep'), 'mine');
    const tarPath = await writeTar(base, rawTar([file('a')]));
    await assert.rejects(extractTar(tarPath, dest), (err) => isNotsotufError(err, 'INVALID_ARGUMENT'));
    assert.deepEqual(await readdir(dest), ['keep']);
  });

  test('refuses a destination whose parent is missing', async () => {
    const { base } = await caseDir();
    const tarPath = await writeTar(base, rawTar([file('a')]));
    await assert.rejects(extractTar(tarPath, join(base, 'no', 'dest')), (err) =>
      isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
    assert.deepEqual(await readdir(base), ['archive.tar']);
  });

  test('a missing tar is IO_ERROR and creates nothing', async () => {
    const { base, dest } = await caseDir();
    await assert.rejects(extractTar(join(base, 'missing.tar'), dest), (err) =>
      isNotsotufError(err, 'IO_ERROR'),
    );
    assert.deepEqual(await readdir(base), []);
  });

  test('a directory as the tar is INVALID_ARGUMENT and creates nothing', async () => {
    const { base, dest } = await caseDir();
    await assert.rejects(extractTar(base, dest), (err) => isNotsotufError(err, 'INVALID_ARGUMENT'));
    assert.deepEqual(await readdir(base), []);
  });

  test('aborting mid-extraction gives ABORTED and removes the staging dir', async () => {
    const { base, dest } = await caseDir();
    const members = Array.from({ length: 20 }, (_, i) => file(`f${i}`, Buffer.alloc(200_000, i)));
    const tarPath = await writeTar(base, rawTar([dir('./'), ...members]));
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      extractTar(tarPath, dest, {
        signal: controller.signal,
        onProgress: () => {
          if (++calls === 5) controller.abort();
        },
      }),
      (err) => isNotsotufError(err, 'ABORTED'),
    );
    assert.ok(calls >= 5);
    assert.deepEqual(await readdir(base), ['archive.tar']);
  });

  test('an already aborted signal creates nothing', async () => {
    const { base, dest } = await caseDir();
    const tarPath = await writeTar(base, rawTar([file('a')]));
    await assert.rejects(extractTar(tarPath, dest, { signal: AbortSignal.abort() }), (err) =>
      isNotsotufError(err, 'ABORTED'),
    );
    assert.deepEqual(await readdir(base), ['archive.tar']);
  });
});
