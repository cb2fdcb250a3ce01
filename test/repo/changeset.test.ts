/**
 * Changeset: file changes applied in order, all or nothing. A step that fails undoes every step before it:
 * overwritten files get their old bytes back, new files go, moved files return to where they came from, and
 * removals (the point of no return) never run.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Changeset } from '../../src/repo/changeset.js';
import { expectCode, listDir, makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';

describe('Changeset', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('commits writes, moves and removals in order', async () => {
    const root = join(dir, 'ok');
    await mkdir(root);
    await writeFile(join(root, 'a'), 'old a');
    await writeFile(join(root, 'gone'), 'to remove');
    await writeFile(join(root, 'staged.bin'), 'moved bytes');
    const changes = new Changeset()
      .move(join(root, 'staged.bin'), join(root, 'targets', 'moved.bin'))
      .write(join(root, 'a'), 'new a')
      .write(join(root, 'sub', 'b'), Buffer.from('b'))
      .remove(join(root, 'gone'));
    assert.deepEqual(changes.writtenPaths, [
      join(root, 'targets', 'moved.bin'),
      join(root, 'a'),
      join(root, 'sub', 'b'),
    ]);
    const { removeFailures } = await changes.commit();
    assert.deepEqual(removeFailures, []);
    assert.deepEqual(await snapshotTree(root).then(Object.keys), [
      'a',
      'sub',
      'sub/b',
      'targets',
      'targets/moved.bin',
    ]);
    assert.equal(await readFile(join(root, 'a'), 'utf8'), 'new a');
    assert.equal(await readFile(join(root, 'targets', 'moved.bin'), 'utf8'), 'moved bytes');
  });

  test('a failing step restores overwritten files, removes new ones, moves files back, skips removals', async () => {
    const root = join(dir, 'rollback');
    await mkdir(join(root, 'staging'), { recursive: true });
    await writeFile(join(root, 'a'), 'old a');
    await writeFile(join(root, 'keep-me'), 'must survive: removals run only after all writes');
    await writeFile(join(root, 'staging', 'archive.tar.gz'), 'archive bytes');
    await writeFile(join(root, 'plain-file'), 'a file, not a directory');
    const before = await snapshotTree(root);

    const changes = new Changeset()
      .move(join(root, 'staging', 'archive.tar.gz'), join(root, 'targets', 'archive.tar.gz'))
      .write(join(root, 'a'), 'new a')
      .write(join(root, 'b'), 'new b')
      .remove(join(root, 'keep-me'))
      // A file used as a directory: mkdir/write fails here, after three steps succeeded.
      .write(join(root, 'plain-file', 'x'), 'never written')
      .write(join(root, 'c'), 'never reached');
    const err = await expectCode(changes.commit(), 'IO_ERROR');
    assert.ok(err.cause, 'the original error is kept');

    const after = await snapshotTree(root);
    // targets/ may stay as an empty directory (it is created for the move); every file is as before.
    delete after['targets'];
    assert.deepEqual(after, before);
    assert.equal(await readFile(join(root, 'a'), 'utf8'), 'old a');
    assert.equal(await readFile(join(root, 'staging', 'archive.tar.gz'), 'utf8'), 'archive bytes');
    assert.deepEqual(await listDir(join(root, 'targets')), []);
  });

  test('a failure in the very first step leaves everything as it was', async () => {
    const root = join(dir, 'first');
    await mkdir(root);
    await writeFile(join(root, 'f'), 'file');
    const before = await snapshotTree(root);
    await expectCode(
      new Changeset()
        .write(join(root, 'f', 'g'), 'x')
        .write(join(root, 'h'), 'y')
        .commit(),
      'IO_ERROR',
    );
    assert.deepEqual(await snapshotTree(root), before);
  });

  test('an empty changeset commits nothing', async () => {
    const changes = new Changeset();
    assert.equal(changes.isEmpty, true);
    assert.deepEqual(await changes.commit(), { removeFailures: [] });
  });
});
