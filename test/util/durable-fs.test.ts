/**
 * util/durable-fs.ts: atomic writes leave the old file or the new one and never a temp file; removeTree has one
 * behaviour (it throws) and copes with read-only directories.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  copyFileAtomic,
  fsyncDir,
  hasErrno,
  moveFile,
  removeTree,
  renameRetrying,
  tempPathFor,
  writeFileAtomic,
} from '../../src/util/durable-fs.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'notsotuf-durable-fs-'));
});
after(() => rm(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh empty directory. */
async function fresh(): Promise<string> {
  const d = join(dir, `case-${++n}`);
  await mkdir(d);
  return d;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: { code?: string }) => err.code,
  );
}

describe('tempPathFor', () => {
  test('is beside the target, hidden, and spelled as the leftover sweeps expect', () => {
    const tmp = tempPathFor(join('some', 'dir', 'install.json'));
    assert.equal(join('some', 'dir', basename(tmp)), tmp);
    assert.match(basename(tmp), /^\.install\.json\.[0-9a-f]{12}\.tmp$/);
    assert.notEqual(tempPathFor('x'), tempPathFor('x'));
  });
});

describe('writeFileAtomic', () => {
  test('writes the content with the mode, replacing an existing file', async () => {
    const d = await fresh();
    const target = join(d, 'state.json');
    await writeFile(target, 'old');
    await writeFileAtomic(target, 'new', 0o600);
    assert.equal(await readFile(target, 'utf8'), 'new');
    if (process.platform !== 'win32') assert.equal((await stat(target)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(d), ['state.json']);
  });

  test('a failed rename leaves the old target and no temp file (IO_ERROR)', async () => {
    const d = await fresh();
    const target = join(d, 'taken');
    await mkdir(target); // a directory where the file should go: the rename fails
    await writeFile(join(target, 'inside'), 'kept');
    assert.equal(await codeOf(writeFileAtomic(target, 'new')), 'IO_ERROR');
    assert.deepEqual(await readdir(d), ['taken']);
    assert.equal(await readFile(join(target, 'inside'), 'utf8'), 'kept');
  });

  test('a missing directory fails with IO_ERROR and creates nothing', async () => {
    const d = await fresh();
    assert.equal(await codeOf(writeFileAtomic(join(d, 'missing', 'file'), 'x')), 'IO_ERROR');
    assert.deepEqual(await readdir(d), []);
  });
});

describe('copyFileAtomic and moveFile', () => {
  test('copies a read-only file (its flush opens it for writing on Windows)', async () => {
    const d = await fresh();
    await writeFile(join(d, 'from'), 'bytes');
    await chmod(join(d, 'from'), 0o444);
    await copyFileAtomic(join(d, 'from'), join(d, 'to'));
    assert.equal(await readFile(join(d, 'to'), 'utf8'), 'bytes');
    assert.deepEqual((await readdir(d)).sort(), ['from', 'to']);
  });

  test('a failed copy throws the error as it is and leaves no temp file', async () => {
    const d = await fresh();
    assert.equal(await codeOf(copyFileAtomic(join(d, 'missing'), join(d, 'to'))), 'ENOENT');
    assert.deepEqual(await readdir(d), []);
  });

  test('moveFile renames over the target', async () => {
    const d = await fresh();
    await writeFile(join(d, 'a'), 'new');
    await writeFile(join(d, 'b'), 'old');
    await moveFile(join(d, 'a'), join(d, 'b'));
    assert.deepEqual(await readdir(d), ['b']);
    assert.equal(await readFile(join(d, 'b'), 'utf8'), 'new');
  });

  test('renameRetrying fails at once on a missing source', async () => {
    const d = await fresh();
    const started = Date.now();
    assert.equal(await codeOf(renameRetrying(join(d, 'missing'), join(d, 'to'))), 'ENOENT');
    assert.ok(Date.now() - started < 1000);
  });
});

describe('removeTree', () => {
  test('removes a tree with read-only directories, files and symlinks, never following a link', async () => {
    const d = await fresh();
    const outside = join(d, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep'), 'kept');
    const tree = join(d, 'tree');
    await mkdir(join(tree, 'a', 'b'), { recursive: true });
    await writeFile(join(tree, 'a', 'b', 'file'), 'x');
    await symlink(outside, join(tree, 'a', 'link'));
    await chmod(join(tree, 'a', 'b'), 0o500);
    await chmod(join(tree, 'a'), 0o500);
    await removeTree(tree);
    assert.deepEqual(await readdir(d), ['outside']);
    assert.equal(await readFile(join(outside, 'keep'), 'utf8'), 'kept');
  });

  test('a missing path is not an error', async () => {
    await removeTree(join(await fresh(), 'missing'));
  });

  test('throws what it cannot remove (a caller wanting best effort catches)', async () => {
    const d = await fresh();
    await writeFile(join(d, 'file'), 'x');
    const code = await codeOf(removeTree(join(d, 'file', 'below')));
    assert.ok(code === 'ENOTDIR' || code === 'ENOENT', `got ${code}`);
    if (process.platform !== 'win32') assert.equal(code, 'ENOTDIR');
  });
});

describe('fsyncDir and hasErrno', () => {
  test('fsyncDir flushes a directory; hasErrno matches codes', async () => {
    await fsyncDir(await fresh());
    assert.equal(hasErrno(Object.assign(new Error('x'), { code: 'EBUSY' }), 'EPERM', 'EBUSY'), true);
    assert.equal(hasErrno(new Error('x'), 'EBUSY'), false);
    assert.equal(hasErrno(undefined, 'EBUSY'), false);
  });
});
