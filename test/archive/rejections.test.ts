import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createArchive, scanBundle, tarChunks } from '../../src/archive/index.js';
import { type ErrorCode, isNotsotufError, type NotsotufError } from '../../src/core/errors.js';
import { tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(() => cleanup());

/** A fresh bundle with a few ordinary files and an empty output dir. */
async function setup(): Promise<{ bundle: string; outDir: string; outFile: string }> {
  const base = join(root, `case-${n++}`);
  const bundle = join(base, 'bundle');
  const outDir = join(base, 'out');
  await mkdir(join(bundle, 'sub', 'deeper'), { recursive: true });
  await mkdir(outDir);
  await writeFile(join(bundle, 'a.txt'), 'a');
  await writeFile(join(bundle, 'sub', 'b.txt'), 'b'.repeat(200_000));
  await writeFile(join(bundle, 'z.txt'), 'z');
  return { bundle, outDir, outFile: join(outDir, 'app.tar.gz') };
}

/** Asserts that archiving fails with `code` and leaves the output dir empty (no archive, no temp file). */
async function expectFailure(
  promise: Promise<unknown>,
  code: ErrorCode,
  outDir: string,
  check?: (err: NotsotufError) => void,
): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isNotsotufError(err, code), `expected ${code}, got ${String(err)}`);
    check?.(err);
    return true;
  });
  assert.deepEqual(await readdir(outDir), []);
}

describe('createArchive rejects unsafe bundles and leaves nothing behind', () => {
  test('symlink to ../outside', async () => {
    const { bundle, outDir, outFile } = await setup();
    await symlink('../outside', join(bundle, 'escape'));
    await expectFailure(
      createArchive({ bundleDir: bundle, outFile }),
      'BUNDLE_UNSAFE_LINK',
      outDir,
      (err) => {
        assert.match(err.message, /\.\/escape/);
        assert.match(err.message, /\.\.\/outside/);
        assert.ok(err.hint);
        assert.deepEqual(err.details, { link: './escape', target: '../outside' });
      },
    );
  });

  test('symlink to an absolute path', async () => {
    const { bundle, outDir, outFile } = await setup();
    await symlink('/etc/passwd', join(bundle, 'sub', 'abs'));
    await expectFailure(createArchive({ bundleDir: bundle, outFile }), 'BUNDLE_UNSAFE_LINK', outDir, (err) =>
      assert.match(err.message, /\/etc\/passwd/),
    );
  });

  test('symlink to sub/../../x (climbs out half-way)', async () => {
    const { bundle, outDir, outFile } = await setup();
    await symlink('sub/../../x', join(bundle, 'sneaky'));
    await expectFailure(createArchive({ bundleDir: bundle, outFile }), 'BUNDLE_UNSAFE_LINK', outDir);
  });

  test('symlink that escapes through another link (a -> ., b -> a/../x)', async () => {
    const { bundle, outDir, outFile } = await setup();
    await symlink('.', join(bundle, 'a'));
    await symlink('a/../x', join(bundle, 'b'));
    await expectFailure(createArchive({ bundleDir: bundle, outFile }), 'BUNDLE_UNSAFE_LINK', outDir, (err) =>
      assert.match(err.message, /\.\/b/),
    );
  });

  test('a FIFO', async () => {
    const { bundle, outDir, outFile } = await setup();
    execFileSync('mkfifo', [join(bundle, 'sub', 'pipe')]);
    await expectFailure(createArchive({ bundleDir: bundle, outFile }), 'BUNDLE_SPECIAL_FILE', outDir, (err) =>
      assert.match(err.message, /FIFO/),
    );
  });

  test('a missing bundle dir, or a file instead of a dir', async () => {
    const { bundle, outDir, outFile } = await setup();
    await expectFailure(
      createArchive({ bundleDir: join(bundle, 'nope'), outFile }),
      'BUNDLE_INVALID',
      outDir,
    );
    await expectFailure(
      createArchive({ bundleDir: join(bundle, 'a.txt'), outFile }),
      'BUNDLE_INVALID',
      outDir,
    );
  });

  test('an output file inside the bundle', async () => {
    const { bundle } = await setup();
    await assert.rejects(
      createArchive({ bundleDir: bundle, outFile: join(bundle, 'sub', 'app.tar.gz') }),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
    assert.deepEqual((await readdir(join(bundle, 'sub'))).sort(), ['b.txt', 'deeper']);
  });

  test('a missing output dir is an IO_ERROR', async () => {
    const { bundle, outDir } = await setup();
    await expectFailure(
      createArchive({ bundleDir: bundle, outFile: join(outDir, 'missing', 'app.tar.gz') }),
      'IO_ERROR',
      outDir,
    );
  });

  test('a file that grows while archiving', async () => {
    const { bundle, outDir, outFile } = await setup();
    // onProgress runs after ./a.txt; ./z.txt is archived later, with the size the scan saw.
    const onProgress = (): void => appendFileSync(join(bundle, 'z.txt'), 'grown');
    await expectFailure(
      createArchive({ bundleDir: bundle, outFile, onProgress }),
      'BUNDLE_INVALID',
      outDir,
      (err) => assert.match(err.message, /\.\/z\.txt changed size/),
    );
  });

  test('a file that shrinks between scan and read', async () => {
    const { bundle } = await setup();
    const entries = await scanBundle(bundle);
    await writeFile(join(bundle, 'sub', 'b.txt'), 'short');
    await assert.rejects(
      (async () => {
        for await (const _ of tarChunks(entries, { mtime: 0 })) {
          // drain
        }
      })(),
      (err) => isNotsotufError(err, 'BUNDLE_INVALID') && /changed size/.test((err as Error).message),
    );
  });
});

describe('createArchive honours an AbortSignal', () => {
  test('aborted mid-way: ABORTED, no archive, no temp file', async () => {
    const { bundle, outDir, outFile } = await setup();
    const controller = new AbortController();
    await expectFailure(
      createArchive({
        bundleDir: bundle,
        outFile,
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('user cancelled')),
      }),
      'ABORTED',
      outDir,
    );
  });

  test('already aborted: ABORTED before anything is written', async () => {
    const { bundle, outDir, outFile } = await setup();
    await expectFailure(
      createArchive({ bundleDir: bundle, outFile, signal: AbortSignal.abort() }),
      'ABORTED',
      outDir,
    );
  });

  test('aborted while the pipeline is busy (timer): ABORTED, nothing left', async () => {
    const { bundle, outDir, outFile } = await setup();
    // A big incompressible file, so the abort lands while data is flowing (level 9 takes far longer than 10 ms).
    await writeFile(join(bundle, 'sub', 'deeper', 'big.bin'), randomBytes(16 * 1024 * 1024));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    await expectFailure(
      createArchive({ bundleDir: bundle, outFile, signal: controller.signal }),
      'ABORTED',
      outDir,
    );
  });
});
