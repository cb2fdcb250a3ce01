/**
 * FirstInstaller through the library API against a repository served on 127.0.0.1: the numbered steps and events,
 * a verified archive already in the cache reused without a download, an abort that leaves nothing behind, and the
 * option checks that fail before anything is made.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FirstInstaller, type FirstInstallOptions } from '../../src/client/first-install.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { readInstallState } from '../../src/install/index.js';
import { type PublishedRepo, servedRepo, versionedScriptApp } from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

describe('FirstInstaller (HTTP on 127.0.0.1)', { timeout: 120_000 }, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-first-install-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0') },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  const fresh = () => join(work, `case-${n++}`);

  function options(installRoot: string, extra: Partial<FirstInstallOptions> = {}): FirstInstallOptions {
    return {
      appName: 'app',
      installRoot,
      entry: 'app.mjs',
      metadataUrl: `${served.server.url}/metadata/`,
      targetsUrl: `${served.server.url}/targets/`,
      trustedRoot: { path: served.trustedRoot },
      fetch: { retryDelayMs: 5, stallTimeoutMs: 5000 },
      ...extra,
    };
  }

  test('announces six steps in order, then done; a second install reuses the verified tar of the cache', async () => {
    const cacheDir = join(fresh(), 'shared-cache');
    const installer = new FirstInstaller(options(fresh(), { cacheDir }));
    const seen: string[] = [];
    installer.on('installing', (s) => seen.push(`step ${s.index}/${s.total}`));
    installer.on('download-progress', () => {
      if (seen.at(-1) !== 'progress') seen.push('progress');
    });
    installer.on('done', (d) => seen.push(`done ${d.version} ${d.outcome}`));
    const result = await installer.install();
    assert.deepEqual(seen, [
      'step 1/6',
      'step 2/6',
      'step 3/6',
      'progress',
      'step 4/6',
      'step 5/6',
      'step 6/6',
      'done 1.1.0 installed',
    ]);
    assert.equal(result.downloadedBytes, result.archive.length);
    assert.equal((await readInstallState(result.installRoot))?.current, '1.1.0');

    const again = await new FirstInstaller(options(fresh(), { cacheDir })).install();
    assert.equal(again.downloadedBytes, 0, 'the cached tar was verified and used');
    assert.equal((await readInstallState(again.installRoot))?.current, '1.1.0');
  });

  test('an abort during the download leaves no root and no cache it created', async () => {
    const parent = fresh();
    const root = join(parent, 'root');
    const cacheDir = join(parent, 'cache');
    const controller = new AbortController();
    const installer = new FirstInstaller(options(root, { cacheDir }));
    installer.on('download-progress', () => controller.abort());
    await assert.rejects(installer.install({ signal: controller.signal }), (err: unknown) =>
      isNotsotufError(err, 'ABORTED'),
    );
    assert.deepEqual(await readdir(parent).catch(() => []), []);
  });

  test('bad options fail in the constructor, before anything is made', async () => {
    const root = fresh();
    const cases: [string, Partial<FirstInstallOptions>, string][] = [
      ['an entry outside the release', { entry: '../x' }, 'INVALID_ARGUMENT'],
      ['the cache dir is the root', { cacheDir: root }, 'INVALID_ARGUMENT'],
      ['no repository', { metadataUrl: undefined, targetsUrl: undefined }, 'INVALID_ARGUMENT'],
      ['a bad version', { version: 'x y' }, 'VERSION_INVALID'],
      ['a bad entry point name', { entryPoint: { appName: 'a b' } }, 'APP_NAME_INVALID'],
      ['a bad trial limit', { entryPoint: { trial: { maxLaunches: 0 } } }, 'INVALID_ARGUMENT'],
    ];
    for (const [what, extra, code] of cases) {
      assert.throws(
        () => new FirstInstaller(options(root, extra)),
        (err: unknown) => isNotsotufError(err, code as 'INVALID_ARGUMENT'),
        what,
      );
    }
    await assert.rejects(stat(root));
  });
});
