/**
 * The atomic versioned install end to end, with real processes: the client installs each update into its own
 * version directory and switches install.json; the real entry point (`notsotuf-launch`, from dist/) starts the
 * selected version, and a new version that crashes before confirming is rolled back by itself. The client then
 * sees the rollback and does not offer the broken version again until a newer one is published.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { versionedStrategy } from '../../src/install/index.js';
import { readInstallState } from '../../src/install/versioned/index.js';
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

function launch(root: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [LAUNCHER, root, '--', 'arg1'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('client with the versioned install and the real entry point', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;

  before(async () => {
    assert.ok(existsSync(LAUNCHER), `${LAUNCHER} is missing: run \`npm run build\` first (npm test does)`);
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-versioned-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0') },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  it('installs 1.1.0 beside 1.0.0, confirms it, rolls back a crashing 1.2.0, and skips 1.2.0 afterwards', async () => {
    const root = join(work, 'root');
    const cacheDir = join(work, 'cache');
    const strategy = versionedStrategy({ entry: 'app.mjs' });
    // The installer: release 1.0.0 into the install root, its archive into the client cache.
    const archive = await publishedArchive(served.repo, 'app-1.0.0.tar.gz');
    await gunzipToFile(archive, join(work, 'installer.tar'));
    await extractTar(join(work, 'installer.tar'), join(work, 'installer'));
    await mkdir(root);
    await strategy.install({ sourceDir: join(work, 'installer'), installDir: root, version: '1.0.0' });
    assert.match(launch(root).stdout, /app 1\.0\.0/);

    const client = (version: string) =>
      // No installStrategy: the client sees install.json and picks the versioned install by itself.
      clientFor(served, { currentVersion: version, installDir: root, cacheDir });

    const first = await client('1.0.0').update();
    assert.equal(first?.version, '1.1.0');
    let state = await readInstallState(root);
    assert.equal(state?.current, '1.1.0');
    assert.equal(state?.previous, '1.0.0');
    assert.equal(state?.trial?.version, '1.1.0');
    const run = launch(root);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /app 1\.1\.0/);
    state = await readInstallState(root);
    assert.equal(state?.trial, null);
    assert.equal((await client('1.1.0').lastUpdateResult())?.kind, 'confirmed');

    await publish(await served.repo.open(), work, [
      { version: '1.2.0', files: versionedScriptApp('1.2.0', true) },
    ]);
    assert.equal((await client('1.1.0').update())?.version, '1.2.0');
    const crashed = launch(root);
    // The broken build ran once, exited 3 before confirming; the entry point rolled back and started 1.1.0.
    assert.match(crashed.stdout, /app 1\.2\.0[\s\S]*app 1\.1\.0/);
    assert.equal(crashed.status, 0);
    state = await readInstallState(root);
    assert.equal(state?.current, '1.1.0');
    assert.deepEqual(
      state?.failed.map((f) => [f.version, f.reason]),
      [['1.2.0', 'crashed']],
    );
    const result = await client('1.1.0').lastUpdateResult();
    assert.equal(result?.kind, 'rolled-back');
    // Not offered again …
    assert.equal(await client('1.1.0').checkForUpdates(), null);
    // … until a newer release exists.
    await publish(await served.repo.open(), work, [{ version: '1.3.0', files: versionedScriptApp('1.3.0') }]);
    assert.equal((await client('1.1.0').checkForUpdates())?.version, '1.3.0');
  });

  it('markHealthy and restart need a versioned install root', async () => {
    const plain = join(work, 'plain');
    await mkdir(plain, { recursive: true });
    const client = clientFor(served, {
      currentVersion: '1.0.0',
      installDir: plain,
      cacheDir: join(work, 'c2'),
    });
    assert.equal(await client.markHealthy(), false);
    assert.equal(await client.lastUpdateResult(), null);
    await assert.rejects(client.restart(), { code: 'INVALID_ARGUMENT' });
    await rm(plain, { recursive: true, force: true });
  });

  it('restart() hands over to the entry point, which starts the selected version with the given arguments', async () => {
    const root = join(work, 'root');
    const client = clientFor(served, {
      currentVersion: '1.1.0',
      installDir: root,
      cacheDir: join(work, 'cache'),
    });
    const lastRun = join(root, 'data', 'last-run.json');
    await rm(lastRun, { force: true });
    await client.restart({ args: ['--from-restart'], launcherPath: LAUNCHER });
    // The detached entry point starts the app, which records its version and arguments.
    let text = '';
    for (let i = 0; i < 200 && !text; i++) {
      text = await readFile(lastRun, 'utf8').catch(() => '');
      if (!text) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(JSON.parse(text), { version: '1.1.0', args: ['--from-restart'] });
  });
});
