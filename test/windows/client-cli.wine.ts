/**
 * Windows lane, Test A: `notsotuf client check` and `client update`, the CLI from dist/ run by node.exe under Wine,
 * against a repository made by the real publisher and served on 127.0.0.1. The app is installed at 1.0.0 under a
 * Windows path with a space (`C:\notsotuf tests\…\My App`). The update must come by patch, be verified and end
 * with exactly release 1.1.0's files in place (on win32 the CLI hands the install over to a helper that finishes
 * once the CLI has exited), and the cache must keep the base of the next patch: the client plans 1.2.0 by patch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import {
  appFiles,
  installArchive,
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree, type TreeSnapshot } from '../helpers/repo-fixtures.js';
import { DIST_CLI, describeRun, WineWorkDir } from './wine-runner.js';

const releases = [
  {
    version: '1.0.0',
    files: appFiles('1.0.0', { 'old.txt': 'only in 1.0.0\n', 'bin/app.cmd': '@echo 1.0.0\r\n' }),
  },
  {
    version: '1.1.0',
    files: appFiles('1.1.0', { 'new/added.txt': 'new in 1.1.0\n', 'bin/app.cmd': '@echo 1.1.0\r\n' }),
  },
];
/** The sha256 of the tar inside a .tar.gz. */
async function tarHash(path: string): Promise<string> {
  return createHash('sha256')
    .update(gunzipSync(await readFile(path)))
    .digest('hex');
}

/** How long the hand-over helper may take after the CLI exits (measured: about 1 s under Wine). */
const HANDOVER_WAIT_MS = 60_000;

describe('notsotuf client check|update under node.exe (Wine)', { timeout: 300_000 }, () => {
  let linux: { dir: string; cleanup: () => Promise<void> };
  let served: PublishedRepo;
  let work: WineWorkDir;

  before(async () => {
    linux = await makeTempDir('notsotuf-wine-cli-');
    served = await servedRepo(linux.dir, releases);
    work = await WineWorkDir.create('client-cli');
    const archive = 'app-1.0.0.tar.gz';
    const at = (rel: string) => join(work.dir, rel);
    await installArchive(await publishedArchive(served.repo, archive), archive, at('My App'), at('cache'));
    await copyFile(served.trustedRoot, at('root.json'));
  });
  after(async () => {
    await served?.close();
    await work?.cleanup();
    await linux?.cleanup();
  });

  const cli = async (command: 'check' | 'update', version: string, extra: readonly string[] = []) => {
    const url = served.server.url;
    const r = await work.node([
      DIST_CLI,
      '--json',
      'client',
      command,
      ...['--app', 'app', '--current-version', version, '--install-dir', work.win('My App')],
      ...['--cache-dir', work.win('cache'), '--trusted-root', work.win('root.json')],
      ...['--metadata-url', `${url}/metadata/`, '--targets-url', `${url}/targets/`],
      ...extra,
    ]);
    assert.equal(r.status, 0, describeRun(r));
    return { json: JSON.parse(r.stdout), run: r };
  };

  /**
   * The installed tree once it equals `expected`, or as it is when the hand-over's time is up. While the helper
   * works, entries (its backup directory) come and go under the walk: such a walk is simply taken again.
   */
  async function installedTree(expected: TreeSnapshot): Promise<TreeSnapshot> {
    const deadline = Date.now() + HANDOVER_WAIT_MS;
    for (;;) {
      const tree = await snapshotTree(join(work.dir, 'My App')).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' || Date.now() > deadline) throw err;
        return undefined;
      });
      if (tree && (Date.now() > deadline || JSON.stringify(tree) === JSON.stringify(expected))) return tree;
      await sleep(250);
    }
  }

  it('check plans a patch, update installs 1.1.0 by patch in place, and the cache keeps the next base', async () => {
    const check = await cli('check', '1.0.0');
    assert.equal(check.json.update?.version, '1.1.0');
    assert.equal(check.json.update?.method.kind, 'patch');

    const update = await cli('update', '1.0.0', ['--purge']);
    assert.equal(update.json.version, '1.1.0', describeRun(update.run));
    assert.equal(update.json.method, 'patch');
    assert.equal(update.json.fellBack, false);
    // win32: the files are replaced by a helper once the CLI has quit (a running app's files cannot be).
    assert.ok(['installed', 'handover'].includes(update.json.outcome), describeRun(update.run));
    const expected = await snapshotTree(join(linux.dir, 'bundle-1.1.0'));
    assert.deepEqual(
      await installedTree(expected),
      expected,
      `the install dir is not release 1.1.0 (outcome ${update.json.outcome})\n${describeRun(update.run)}`,
    );

    // The next patch starts from the verified tar of the installed version, kept in the cache (renamed there,
    // also on Windows).
    const archive = 'app-1.1.0.tar.gz';
    assert.equal(
      createHash('sha256')
        .update(await readFile(join(work.dir, 'cache', 'targets', 'app-1.1.0.tar')))
        .digest('hex'),
      await tarHash(await publishedArchive(served.repo, archive)),
    );
    await publish(await served.repo.open(), linux.dir, [{ version: '1.2.0', files: appFiles('1.2.0') }]);
    const next = await cli('check', '1.1.0');
    assert.equal(next.json.update?.version, '1.2.0');
    assert.equal(next.json.update?.method.kind, 'patch');
  });
});
