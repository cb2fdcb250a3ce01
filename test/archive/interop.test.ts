/** The archive read back by other tools: GNU tar (system `tar`) and Python's tarfile (what tufup uses). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createArchive } from '../../src/archive/index.js';
import {
  bigPayload,
  describeTree,
  gnuTarListing,
  LONG_NAME,
  LONG_SPLITTABLE,
  makeBundle,
  NON_ASCII,
  pythonMembers,
  tempDir,
  VARIANT_B,
} from './helpers.js';

describe('interop', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let bundle: string;
  let archive: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    bundle = join(dir, 'bundle');
    // Variant B has 0664/0775 modes on disk, so the normalisation is visible in what the tools read.
    await makeBundle(bundle, bigPayload(), VARIANT_B);
    archive = join(dir, 'app.tar.gz');
    await createArchive({ bundleDir: bundle, outFile: archive, mtime: 1704110400 });
  });
  after(() => cleanup());

  test('GNU tar lists every member with normalised modes, root owner and the fixed mtime', () => {
    const lines = gnuTarListing(archive);
    assert.equal(lines[0], 'drwxr-xr-x root/root         0 2024-01-01 12:00 ./');
    assert.ok(lines.includes('-rwxr-xr-x root/root        18 2024-01-01 12:00 ./bin/run.sh'));
    assert.ok(lines.includes('-rw-r--r-- root/root        14 2024-01-01 12:00 ./README.txt'));
    assert.ok(lines.includes('lrwxrwxrwx root/root         0 2024-01-01 12:00 ./run -> bin/run.sh'));
    assert.ok(lines.includes('lrwxrwxrwx root/root         0 2024-01-01 12:00 ./a/b/up -> ../../bin/run.sh'));
    assert.ok(lines.includes('drwxr-xr-x root/root         0 2024-01-01 12:00 ./empty-dir/'));
    assert.ok(lines.includes('-rw-r--r-- root/root         0 2024-01-01 12:00 ./empty.txt'));
    assert.ok(lines.some((l) => l.endsWith(` ./${LONG_SPLITTABLE}`)));
    assert.ok(lines.some((l) => l.endsWith(` ./long/${LONG_NAME}`)));
    assert.ok(lines.some((l) => l.endsWith(` ./${NON_ASCII}`)));
    assert.ok(lines.every((l) => / root\/root /.test(l) && / 2024-01-01 12:00 /.test(l)));
  });

  test('GNU tar extracts exactly the bundle: contents, exec bits, symlinks, long and non-ASCII names', async () => {
    const out = join(dir, 'gnu-extract');
    await mkdir(out);
    execFileSync('tar', ['-xpzf', archive, '-C', out]);
    assert.deepEqual(await describeTree(out), await describeTree(bundle));
    assert.equal((await lstat(join(out, 'bin', 'run.sh'))).mode & 0o7777, 0o755);
    assert.equal((await lstat(join(out, 'README.txt'))).mode & 0o7777, 0o644);
    assert.equal((await lstat(join(out, 'a'))).mode & 0o7777, 0o755);
    assert.ok((await lstat(join(out, 'run'))).isSymbolicLink());
    assert.equal((await lstat(join(out, NON_ASCII))).size, 10);
  });

  test("Python's tarfile reads names, types, modes, owners and link targets", () => {
    const members = pythonMembers(archive);
    const byName = new Map(members.map((m) => [m.name, m]));
    assert.equal(members[0]?.name, '.');
    assert.deepEqual(
      members.map((m) => m.name),
      [...members.map((m) => m.name)].sort(perDirectoryOrder),
    );
    assert.equal(byName.get('./a')?.type, 'dir');
    assert.equal(byName.get('./empty-dir')?.type, 'dir');
    assert.equal(byName.get('./bin/run.sh')?.mode, 0o755);
    assert.equal(byName.get('./README.txt')?.mode, 0o644);
    assert.equal(byName.get('./run')?.type, 'symlink');
    assert.equal(byName.get('./run')?.linkname, 'bin/run.sh');
    assert.equal(byName.get('./run')?.mode, 0o777);
    assert.equal(byName.get(`./${LONG_SPLITTABLE}`)?.type, 'file');
    assert.equal(byName.get(`./long/${LONG_NAME}`)?.size, 10);
    assert.equal(byName.get(`./${NON_ASCII}`)?.type, 'file');
    assert.equal(byName.get('./lib/big.bin')?.size, 3 * 1024 * 1024);
    for (const m of members) {
      assert.deepEqual([m.uid, m.gid, m.uname, m.gname, m.mtime], [0, 0, 'root', 'root', 1704110400], m.name);
      assert.equal(m.mode, m.type === 'dir' ? 0o755 : m.type === 'symlink' ? 0o777 : m.mode, m.name);
      assert.ok(m.type !== 'other', m.name);
    }
  });

  test("Python's strictest extraction filter ('data') accepts the archive and yields the bundle", async () => {
    const out = join(dir, 'py-extract');
    await mkdir(out);
    const script =
      'import sys, tarfile\nwith tarfile.open(sys.argv[1]) as t: t.extractall(sys.argv[2], filter="data")';
    execFileSync('python3', ['-c', script, archive, out]);
    assert.deepEqual(await describeTree(out), await describeTree(bundle));
  });
});

/** Order of names when each directory's children are sorted by their UTF-8 bytes. */
function perDirectoryOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}
