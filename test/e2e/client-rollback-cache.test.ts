/**
 * The client cache after a rollback, with real processes: an update to a release that crashes on trial is rolled
 * back by the real entry point (dist/) to the version before it. The next update starts from that version again,
 * so the cache must still hold its archive (the base of the next patch), or the update falls back to the full
 * archive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { readInstallState, versionedStrategy } from '../../src/install/index.js';
import {
  clientFor,
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
  versionedScriptApp,
} from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

const LAUNCHER = fileURLToPath(new URL('../../dist/install/launcher/main.js', import.meta.url));

describe('the client cache after a rollback (versioned install, real entry point)', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;

  before(async () => {
    assert.ok(existsSync(LAUNCHER), `${LAUNCHER} is missing: run \`npm run build\` first (npm test does)`);
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-rollback-cache-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0', true) },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  it('keeps the archive of the version rolled back to, so the next update from it is a patch chain', async () => {
    const root = join(work, 'root');
    const cacheDir = join(work, 'cache');
    // The installer: 1.0.0 into the install root, its archive into the client cache.
    const archive = await publishedArchive(served.repo, 'app-1.0.0.tar.gz');
    await gunzipToFile(archive, join(work, 'installer.tar'));
    await extractTar(join(work, 'installer.tar'), join(work, 'installer'));
    await mkdir(root);
    await versionedStrategy({ entry: 'app.mjs' }).install({
      sourceDir: join(work, 'installer'),
      installDir: root,
      version: '1.0.0',
    });
    await mkdir(join(cacheDir, 'targets'), { recursive: true });
    await copyFile(archive, join(cacheDir, 'targets', 'app-1.0.0.tar.gz'));
    const client = (version: string) =>
      clientFor(served, { currentVersion: version, installDir: root, cacheDir });

    // 1.1.0 comes by patch, crashes at its first launch, and the entry point rolls back to 1.0.0.
    const broken = await client('1.0.0').update();
    assert.equal(broken?.version, '1.1.0');
    assert.equal(broken?.download.method, 'patch');
    const run = spawnSync(process.execPath, [LAUNCHER, root], { encoding: 'utf8' });
    assert.equal(run.stdout, 'app 1.1.0\napp 1.0.0\n', run.stderr);
    const state = await readInstallState(root);
    assert.equal(state?.current, '1.0.0');
    assert.deepEqual(
      state?.failed.map((f) => [f.version, f.reason]),
      [['1.1.0', 'crashed']],
    );

    // 1.2.0 is published; the app runs 1.0.0 again, and its next update patches from 1.0.0's archive.
    await publish(await served.repo.open(), work, [{ version: '1.2.0', files: versionedScriptApp('1.2.0') }]);
    const info = await client('1.0.0').checkForUpdates();
    assert.equal(info?.version, '1.2.0');
    assert.equal(
      info?.method.kind,
      'patch',
      `planned ${JSON.stringify(info?.method)}; cache: ${(await readdir(join(cacheDir, 'targets'))).join(', ')}`,
    );
    const next = await client('1.0.0').update();
    assert.equal(next?.version, '1.2.0');
    assert.equal(next?.download.method, 'patch');
    assert.equal(next?.download.fellBack, false);
    assert.deepEqual(next?.info.method.kind === 'patch' ? next.info.method.patches.map((p) => p.name) : [], [
      'app-1.1.0.patch',
      'app-1.2.0.patch',
    ]);
    // The cache now holds what a later rollback or update needs: 1.2.0's verified tar (current) and 1.0.0's
    // archive (kept for a rollback); the failed 1.1.0 and the patches are gone.
    const after = await readInstallState(root);
    assert.deepEqual([after?.current, after?.previous], ['1.2.0', '1.0.0']);
    assert.deepEqual((await readdir(join(cacheDir, 'targets'))).sort(), [
      'app-1.0.0.tar.gz',
      'app-1.2.0.tar',
    ]);
  });
});
