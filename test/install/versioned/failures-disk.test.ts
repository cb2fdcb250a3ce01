/**
 * Disk full while the release is copied into `versions/.staging-*`, for real:
 * - a file size limit (`ulimit -f` on a child process running the built installer): writes past it fail with
 *   EFBIG, even as root;
 * - a small tmpfs the test mounts (root only; skipped with the reason otherwise): writes fail with ENOSPC.
 * Either way the install fails with INSTALL_FAILED and a hint, install.json and the old version are byte for byte
 * as before, no staging directory is left, and the real entry point still starts the old version.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readInstallState } from '../../../src/install/index.js';
import { isRoot, tempDir } from '../helpers.js';
import {
  assertBuilt,
  assertNotsotufError,
  assertUnchanged,
  type ChildResult,
  confirmedRoot,
  run,
  runEntryPoint,
  takeBefore,
  writeInstallChild,
} from './failures-support.js';
import { installVersion, makeRelease, releaseSpec } from './fixtures.js';

const posixOnly = process.platform === 'win32' ? 'needs sh, ulimit and the POSIX entry script' : false;

/** Version 1.1.0 with a 1 MiB file, named to be copied last: the small files before it are already in staging. */
async function bigRelease(base: string) {
  return makeRelease(base, '1.1.0', {
    ...releaseSpec('1.1.0'),
    'zz-big.bin': 'x'.repeat(1024 * 1024),
  });
}

describe('disk full while copying the release into staging', { skip: posixOnly }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  let child: string;
  before(async () => {
    assertBuilt();
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-disk-'));
    child = await writeInstallChild(base);
  });
  after(() => cleanup());

  /** `ulimit -f` counts 512-byte blocks in dash (1 KiB in bash); SIGXFSZ is ignored so the write gets EFBIG. */
  function installUnderLimit(blocks: number, root: string, sourceDir: string) {
    const limited = `ulimit -f ${blocks}; trap "" XFSZ; exec "$0" "$@"`;
    return run('sh', ['-c', limited, process.execPath, child, root, sourceDir, '1.1.0']);
  }

  test('size limit (ulimit -f, EFBIG): INSTALL_FAILED with a hint, nothing changed, the old version starts', async () => {
    const dir = join(base, `case-${++n}`);
    const root = await confirmedRoot(dir);
    const release = await bigRelease(dir);
    const before = await takeBefore(root);

    // 64 blocks (32 or 64 KiB): the lock files and every small file fit, the 1 MiB file does not.
    const limited = await installUnderLimit(64, root, release.dir);
    assert.equal(limited.code, 1, limited.stderr);
    const result = JSON.parse(limited.stdout) as ChildResult;
    assert.equal(result.ok, false);
    assert.equal(result.name, 'NotsotufError');
    assert.equal(result.code, 'INSTALL_FAILED', result.message);
    assert.match(result.hint ?? '', /disk is not full/);
    assert.equal(result.cause, 'EFBIG', 'the cause is the real write error');
    assert.match(result.path ?? '', /[/\\]versions[/\\]\.staging-/, 'it failed while copying into staging');
    assert.match(result.message ?? '', /installed versions were left as they were/);
    assert.deepEqual(result.warnings, []);
    await assertUnchanged(before);

    const started = await runEntryPoint(root);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, '1.0.0\n', 'the entry point starts the old version');

    // The root stays usable: without the limit the same install completes.
    const retry = await run(process.execPath, [child, root, release.dir, '1.1.0']);
    assert.deepEqual(JSON.parse(retry.stdout), { ok: true, warnings: [] });
    assert.equal((await readInstallState(root))?.current, '1.1.0');
  });

  test('a small tmpfs fills up (ENOSPC): INSTALL_FAILED "disk is full", nothing changed, the old version starts', async (t) => {
    if (!isRoot) {
      t.skip('mounting a tmpfs needs root');
      return;
    }
    const dir = join(base, `case-${++n}`);
    const mnt = join(dir, 'small-fs');
    await mkdir(mnt, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      t.skip(`cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    try {
      const root = await confirmedRoot(mnt);
      const release = await bigRelease(join(dir, 'releases-elsewhere'));
      const before = await takeBefore(root);
      await assert.rejects(installVersion(root, release.dir, '1.1.0'), (err) => {
        const e = assertNotsotufError(err, 'INSTALL_FAILED', /disk is full/);
        assert.equal((e.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOSPC');
        return true;
      });
      await assertUnchanged(before);
      const started = await runEntryPoint(root);
      assert.equal(started.code, 0, started.stderr);
      assert.equal(started.stdout, '1.0.0\n', 'the entry point starts the old version');
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
});
