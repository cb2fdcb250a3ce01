/**
 * Windows lane, Test B: the versioned layout on Windows semantics. A driver run by node.exe under Wine
 * (versioned-driver.mjs, public API only) installs the first version into a versioned root under `C:\notsotuf
 * tests\…`, writes the `.cmd` entry point, and later updates through the Client; the entry point is started through
 * cmd.exe. Checked here: the first install (a read-only file included, which Windows can only flush through a
 * writable handle), arguments with spaces and the exit code passing through the `.cmd`, an update by patch confirmed
 * by its first launch, and a crashing release rolled back by the entry point to the previous version, which the
 * client then reports and does not offer again.
 */
import assert from 'node:assert/strict';
import { chmod, copyFile, lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { readInstallState } from '../../src/install/versioned/index.js';
import {
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
  versionedScriptApp,
} from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';
import { describeRun, testFile, WineWorkDir } from './wine-runner.js';

describe('versioned layout and .cmd entry point under node.exe (Wine)', { timeout: 300_000 }, () => {
  let linux: { dir: string; cleanup: () => Promise<void> };
  let served: PublishedRepo;
  let work: WineWorkDir;
  const root = () => join(work.dir, 'My App');

  before(async () => {
    linux = await makeTempDir('notsotuf-wine-versioned-');
    served = await servedRepo(linux.dir, [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0') },
    ]);
    work = await WineWorkDir.create('versioned');
    await copyFile(served.trustedRoot, join(work.dir, 'root.json'));
  });
  after(async () => {
    await served?.close();
    await work?.cleanup();
    await linux?.cleanup();
  });

  const driver = (args: readonly string[]) => work.node([testFile('versioned-driver.mjs'), ...args]);
  /** A driver command that prints JSON: exit 0 and its output, or the test fails with what it printed. */
  const driverJson = async (args: readonly string[]) => {
    const r = await driver(args);
    assert.equal(r.status, 0, describeRun(r));
    return JSON.parse(r.stdout);
  };
  const clientArgs = (version: string) => [
    work.win('My App'),
    work.win('cache'),
    version,
    served.server.url,
    work.win('root.json'),
  ];
  const launch = (...args: string[]) => driver(['launch', work.win('My App/app.cmd'), ...args]);
  const lastRun = async () => JSON.parse(await readFile(join(root(), 'data', 'last-run.json'), 'utf8'));

  it('installs 1.0.0 with a .cmd entry point that passes arguments and the exit code through', async () => {
    // The installer's payload: release 1.0.0 extracted, plus a read-only file (an installer may ship one).
    const name = 'app-1.0.0.tar.gz';
    const archive = await publishedArchive(served.repo, name);
    await gunzipToFile(archive, join(linux.dir, 'installer.tar'));
    const installer = join(work.dir, 'installer');
    await extractTar(join(linux.dir, 'installer.tar'), installer);
    await writeFile(join(installer, 'read-only.txt'), 'read-only\n');
    await chmod(join(installer, 'read-only.txt'), 0o444);
    // The installer also puts the archive into the client cache: the first update can then be a patch.
    await mkdir(join(work.dir, 'cache', 'targets'), { recursive: true });
    await copyFile(archive, join(work.dir, 'cache', 'targets', name));
    await mkdir(root());

    const install = await driverJson(['install', work.win('installer'), work.win('My App'), '1.0.0']);
    assert.deepEqual(install, { kind: 'windows', path: work.win('My App/app.cmd') });
    assert.equal((await readInstallState(root()))?.current, '1.0.0');
    const version = join(root(), 'versions', '1.0.0');
    assert.deepEqual(await snapshotTree(version), await snapshotTree(installer));
    assert.equal((await lstat(join(version, 'read-only.txt'))).mode & 0o222, 0, 'still read-only');

    const run = await launch('two words', '--exit=7');
    assert.equal(run.status, 7, describeRun(run));
    assert.match(run.stdout, /app 1\.0\.0/);
    assert.deepEqual(await lastRun(), { version: '1.0.0', args: ['two words', '--exit=7'] });
  });

  it('updates to 1.1.0 by patch; its first launch through the entry point confirms it', async () => {
    const update = await driverJson(['update', ...clientArgs('1.0.0')]);
    assert.deepEqual(update, { version: '1.1.0', outcome: 'installed', method: 'patch' });
    let state = await readInstallState(root());
    assert.deepEqual([state?.current, state?.previous, state?.trial?.version], ['1.1.0', '1.0.0', '1.1.0']);

    const run = await launch('a b c');
    assert.equal(run.status, 0, describeRun(run));
    assert.match(run.stdout, /app 1\.1\.0/);
    assert.deepEqual(await lastRun(), { version: '1.1.0', args: ['a b c'] });
    state = await readInstallState(root());
    assert.equal(state?.trial, null);
  });

  it('rolls a crashing 1.2.0 back to 1.1.0, started again with the same arguments, and never offers 1.2.0 again', async () => {
    await publish(await served.repo.open(), linux.dir, [
      { version: '1.2.0', files: versionedScriptApp('1.2.0', true) },
    ]);
    const update = await driverJson(['update', ...clientArgs('1.1.0')]);
    assert.equal(update?.version, '1.2.0');

    const run = await launch('after crash', '--exit=5');
    // 1.2.0 exited 3 before confirming; the entry point rolled back and ran 1.1.0, whose exit code comes through.
    assert.equal(run.status, 5, describeRun(run));
    assert.match(run.stdout, /app 1\.2\.0[\s\S]*app 1\.1\.0/);
    assert.deepEqual(await lastRun(), { version: '1.1.0', args: ['after crash', '--exit=5'] });
    const state = await readInstallState(root());
    assert.equal(state?.current, '1.1.0');
    assert.deepEqual(
      state?.failed.map((f) => [f.version, f.reason]),
      [['1.2.0', 'crashed']],
    );

    const check = await driverJson(['check', ...clientArgs('1.1.0')]);
    assert.equal(check.lastResult?.kind, 'rolled-back');
    assert.equal(check.update, null);
  });
});
