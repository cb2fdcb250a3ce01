/**
 * User data next to the app, with real processes: Node apps (`app.mjs` entries run by the built launcher through
 * the entry script) that write `<root>/data/settings.json` and a file inside their own version directory, then call
 * the built `markHealthy`. Across an install, a crash of the new version on trial with the launcher's rollback, and
 * two more installs, `data/` stays byte for byte as the app left it; what an app writes inside `versions/<v>/` goes
 * with that version (documented in docs/install.md: a version directory holds its release and nothing else).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readInstallState, versionDir, writeEntryPoint } from '../../../src/install/index.js';
import { snapshot, type TreeSpec, tempDir } from '../helpers.js';
import { APP_NAME, assertBuilt, DIST_INSTALL, DIST_MAIN, runEntryPoint } from './failures-support.js';
import { installVersion, makeRelease, makeRoot } from './fixtures.js';

const posixOnly = process.platform === 'win32' ? 'runs the POSIX entry script' : false;

/**
 * A well-behaved app: creates data/settings.json on its first run (later runs only read it), writes a cache file
 * into its own version directory, marks itself healthy and prints what it found.
 */
const GOOD_APP = `
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { markHealthy } from ${JSON.stringify(pathToFileURL(DIST_INSTALL).href)};
const root = process.env.NOTSOTUF_INSTALL_ROOT;
const version = process.env.NOTSOTUF_VERSION;
const settings = join(root, 'data', 'settings.json');
if (!existsSync(settings)) {
  await mkdir(join(root, 'data'), { recursive: true });
  await writeFile(settings, JSON.stringify({ theme: 'dark', createdBy: version }) + '\\n');
}
await writeFile(join(root, 'versions', version, 'cache.txt'), 'cache of ' + version);
await markHealthy(root, version);
console.log('app', version, (await readFile(settings, 'utf8')).trim());
`;

/** A broken update: writes into its own version directory, then crashes before markHealthy. */
const CRASHING_APP = `
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
const version = process.env.NOTSOTUF_VERSION;
await writeFile(join(process.env.NOTSOTUF_INSTALL_ROOT, 'versions', version, 'cache.txt'), 'cache of ' + version);
console.log('app', version, 'crashing');
process.exit(3);
`;

function appRelease(version: string, body: string): TreeSpec {
  return { 'app.mjs': body, [`lib/only-in-${version}.txt`]: version };
}

describe('user data survives updates and rollbacks', { skip: posixOnly }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    assertBuilt();
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-data-'));
  });
  after(() => cleanup());

  test('data/settings.json is byte-identical after installing B, the rollback of a crashing B to A, and installing C and D; files the app writes inside versions/<v>/ are NOT kept: each update’s dir is exactly its release, and a dir is deleted with its version', async () => {
    const root = await makeRoot(base);
    await writeEntryPoint(root, { appName: APP_NAME, launcherPath: DIST_MAIN });
    const install = async (version: string, body: string) => {
      const release = await makeRelease(base, version, appRelease(version, body));
      const { warnings } = await installVersion(root, release.dir, version, { entry: 'app.mjs' });
      assert.deepEqual(warnings, []);
      return release;
    };
    const settingsPath = join(root, 'data', 'settings.json');

    // A: first run creates the settings and confirms.
    await install('1.0.0', GOOD_APP);
    const first = await runEntryPoint(root);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'app 1.0.0 {"theme":"dark","createdBy":"1.0.0"}\n');
    assert.equal((await readInstallState(root))?.trial, null, 'A confirmed itself');
    const settings = await readFile(settingsPath);
    const data = await snapshot(join(root, 'data'));
    const dataUnchanged = async (when: string) => {
      assert.deepEqual(await readFile(settingsPath), settings, `settings.json byte-identical ${when}`);
      assert.deepEqual(await snapshot(join(root, 'data')), data, `data/ unchanged ${when}`);
    };

    // B: installed, then crashes on its first launch before markHealthy; the launcher rolls back and starts A.
    await install('1.1.0', CRASHING_APP);
    await dataUnchanged('after installing B');
    const crash = await runEntryPoint(root);
    assert.equal(crash.code, 0, 'the exit of A, which the launcher started after the rollback');
    assert.equal(crash.stdout, 'app 1.1.0 crashing\napp 1.0.0 {"theme":"dark","createdBy":"1.0.0"}\n');
    assert.match(
      crash.stderr,
      /1\.1\.0 failed before confirming it works \(code 3\); rolling back to 1\.0\.0/,
    );
    const rolledBack = await readInstallState(root);
    assert.deepEqual([rolledBack?.current, rolledBack?.previous], ['1.0.0', null]);
    assert.deepEqual(
      rolledBack?.failed.map((f) => [f.version, f.reason, f.detail]),
      [['1.1.0', 'crashed', '3']],
    );
    await dataUnchanged('after the rollback to A');

    // C: B's directory, with what B wrote into it, is removed; A's stays (it is C's previous), with A's file.
    const c = await install('1.2.0', GOOD_APP);
    await dataUnchanged('after installing C');
    assert.deepEqual(
      await snapshot(versionDir(root, '1.2.0')),
      c.tree,
      'the release only: A’s cache.txt is not carried over',
    );
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.0.0', '1.2.0']);
    assert.equal(await readFile(join(versionDir(root, '1.0.0'), 'cache.txt'), 'utf8'), 'cache of 1.0.0');
    const ranC = await runEntryPoint(root);
    assert.equal(ranC.stdout, 'app 1.2.0 {"theme":"dark","createdBy":"1.0.0"}\n', ranC.stderr);
    await dataUnchanged('after C ran');

    // D: A is no longer kept; its directory goes, and A's in-version file with it.
    const d = await install('1.3.0', GOOD_APP);
    await dataUnchanged('after installing D');
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.2.0', '1.3.0']);
    assert.deepEqual(await snapshot(versionDir(root, '1.3.0')), d.tree);
  });
});
