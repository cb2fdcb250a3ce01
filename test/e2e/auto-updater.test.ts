/**
 * The AutoUpdater end to end over real HTTP on 127.0.0.1: periodic checks that find and download a newly published
 * release, offline periods (server stopped) reported as transient errors and retried with backoff until the server
 * is back, the throttle persisted across a restart, security failures not retried in a tight loop, a damaged state
 * file, stop() aborting a check, and the versioned layout's next-launch install. No wall-clock durations are
 * asserted: the tests wait for events, and check the planned delays as data.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { AutoUpdater, type AutoUpdaterEventMap, type AutoUpdaterOptions } from '../../src/client/index.js';
import { versionedStrategy } from '../../src/install/index.js';
import { readInstallState } from '../../src/install/versioned/index.js';
import { rolloutWaves } from '../../src/repo/rollout-schedule.js';
import { serveDirectory } from '../../src/server/static-server.js';
import {
  appFiles,
  clientFor,
  installArchive,
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
  versionedScriptApp,
} from '../helpers/client-fixtures.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';

type Name = keyof AutoUpdaterEventMap;

/** Records every event of an updater; `next` waits (generously) for the next one matching. */
function recorder(updater: AutoUpdater) {
  const seen: { name: Name; payload: unknown }[] = [];
  const waiters: { name: Name; match: (p: never) => boolean; resolve: (p: unknown) => void }[] = [];
  const names: Name[] = [
    'check-scheduled',
    'checking',
    'update-available',
    'update-not-available',
    'update-downloaded',
    'error',
    'warning',
  ];
  for (const name of names) {
    updater.on(name, (payload) => {
      seen.push({ name, payload });
      for (const w of [...waiters]) {
        if (w.name === name && w.match(payload as never)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(payload);
        }
      }
    });
  }
  return {
    seen,
    all: <K extends Name>(name: K) =>
      seen.filter((e) => e.name === name).map((e) => e.payload as AutoUpdaterEventMap[K]),
    next: <K extends Name>(
      name: K,
      match: (p: AutoUpdaterEventMap[K]) => boolean = () => true,
      timeoutMs = 60_000,
    ): Promise<AutoUpdaterEventMap[K]> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${name} event within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          name,
          match: match as (p: never) => boolean,
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p as AutoUpdaterEventMap[K]);
          },
        });
      }),
  };
}

describe('AutoUpdater over HTTP', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-auto-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }) },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  async function installed(repo: PublishedRepo, version: string) {
    const dir = join(work, `case-${n++}`);
    const installDir = join(dir, 'app');
    const cacheDir = join(dir, 'cache');
    const archiveName = `app-${version}.tar.gz`;
    await installArchive(await publishedArchive(repo.repo, archiveName), archiveName, installDir, cacheDir);
    return { installDir, cacheDir };
  }

  function updaterFor(
    repo: PublishedRepo,
    dirs: { installDir: string; cacheDir: string },
    version: string,
    options: Omit<AutoUpdaterOptions, 'client'> = {},
  ): AutoUpdater {
    const client = clientFor(repo, { currentVersion: version, ...dirs });
    return new AutoUpdater({ client, autoInstall: false, ...options });
  }

  it('update-not-available passes on what a rollout holds back from this install', async () => {
    const own = await servedRepo(join(work, 'withheld'), [{ version: '1.0.0', files: appFiles('1.0.0') }]);
    try {
      // 1.1.0's rollout starts tomorrow: today it is offered to nobody, and every install is told so.
      const bundleDir = await writeBundle(join(work, 'withheld', 'bundle-1.1.0'), appFiles('1.1.0'));
      await (await own.repo.open()).addRelease({
        bundleDir,
        version: '1.1.0',
        rollout: rolloutWaves(50, [], new Date(Date.now() + 24 * 3600_000)),
      });
      const dirs = await installed(own, '1.0.0');
      const updater = updaterFor(own, dirs, '1.0.0', { interval: 60_000 });
      const events = recorder(updater);
      const none = events.next('update-not-available');
      assert.deepEqual(await updater.checkNow(), { kind: 'no-update' });
      const event = await none;
      assert.equal(event.currentVersion, '1.0.0');
      assert.deepEqual(
        event.withheld.map((w) => [w.version, w.reason]),
        [['1.1.0', 'rollout']],
      );
      updater.stop();
    } finally {
      await own.close();
    }
  });

  it('checks periodically, finds a release published meanwhile, downloads it and stops checking', async () => {
    const own = await servedRepo(join(work, 'periodic'), [{ version: '1.0.0', files: appFiles('1.0.0') }]);
    try {
      const dirs = await installed(own, '1.0.0');
      const updater = updaterFor(own, dirs, '1.0.0', { interval: 200 });
      const events = recorder(updater);
      const firstNoUpdate = events.next('update-not-available');
      updater.start();
      await firstNoUpdate;
      const scheduled = await events.next('check-scheduled', (e) => e.reason === 'interval');
      assert.ok(scheduled.delayMs <= 220, `the next check is an interval away (${scheduled.delayMs} ms)`);
      await publish(await own.repo.open(), join(work, 'periodic'), [
        { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }) },
      ]);
      const downloaded = await events.next('update-downloaded');
      assert.equal(downloaded.info.version, '1.1.0');
      assert.equal(downloaded.download.version, '1.1.0');
      assert.equal(downloaded.ready, null, 'autoInstall: false installs nothing');
      assert.ok((await readFile(downloaded.download.archivePath)).length > 0);
      assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.0.0\n');
      assert.equal(updater.nextCheckAt, undefined, 'nothing more to check for once downloaded');
      const requests = own.server.requests.length;
      const again = await updater.checkNow({ force: true });
      assert.equal(again.kind, 'downloaded');
      assert.equal(own.server.requests.length, requests, 'no request after the download');
      assert.deepEqual(events.all('error'), []);
      updater.stop();
    } finally {
      await own.close();
    }
  });

  it('offline: reports transient errors without throwing, retries with capped backoff, succeeds when the server is back', async () => {
    const own = await servedRepo(join(work, 'offline'), [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0') },
    ]);
    const dirs = await installed(own, '1.0.0');
    const port = Number(new URL(own.server.url).port);
    await own.close(); // the port is closed: connection refused
    const updater = updaterFor(own, dirs, '1.0.0', {
      interval: 60 * 60 * 1000,
      retryDelay: 50,
      maxRetryDelay: 200,
    });
    const events = recorder(updater);
    const third = events.next('error', () => events.all('error').length >= 3);
    updater.start();
    await third;
    for (const e of events.all('error')) {
      assert.equal(e.error.code, 'DOWNLOAD_FAILED');
      assert.equal(e.transient, true);
      assert.equal(e.class, 'transient');
      assert.ok(e.nextCheckAt !== null, 'a retry is planned');
    }
    const retries = events.all('check-scheduled').filter((e) => e.reason === 'retry');
    assert.ok(retries.length >= 3);
    for (const r of retries)
      assert.ok(r.delayMs <= 200 * 1.1, `capped backoff, not the interval (${r.delayMs})`);
    const persisted = JSON.parse(await readFile(join(dirs.cacheDir, 'auto-update.json'), 'utf8'));
    assert.ok(persisted.failures >= 3);
    assert.equal(persisted.lastError.class, 'transient');

    const back = await serveDirectory({ root: own.repo.repoDir, port });
    try {
      const downloaded = await events.next('update-downloaded');
      assert.equal(downloaded.info.version, '1.1.0');
      const after = JSON.parse(await readFile(join(dirs.cacheDir, 'auto-update.json'), 'utf8'));
      assert.equal(after.failures, 0);
      assert.equal(after.lastResult, 'update');
    } finally {
      updater.stop();
      await back.close();
    }
  });

  it('throttle survives a restart: a second instance does not check again; force does', async () => {
    const dirs = await installed(served, '1.1.0');
    const first = updaterFor(served, dirs, '1.1.0', { interval: 60 * 60 * 1000 });
    assert.deepEqual(await first.checkNow(), { kind: 'no-update' });
    const requests = served.server.requests.length;

    // The app restarts: a new client and updater on the same cache.
    const second = updaterFor(served, dirs, '1.1.0', { interval: 60 * 60 * 1000 });
    const events = recorder(second);
    const throttled = await second.checkNow();
    assert.equal(throttled.kind, 'throttled');
    assert.ok(throttled.kind === 'throttled' && throttled.nextCheckAt > Date.now());
    assert.equal(served.server.requests.length, requests, 'no request while throttled');
    const scheduled = events.next('check-scheduled');
    second.start();
    const plan = await scheduled;
    assert.equal(plan.reason, 'interval');
    assert.ok(plan.delayMs > 30 * 60 * 1000, `the next check is not at start-up (${plan.delayMs} ms)`);
    second.stop();

    // A throwing listener is contained: reported as a warning, the check goes on.
    second.on('update-not-available', () => {
      throw new Error('listener bug');
    });
    const forced = await second.checkNow({ force: true });
    assert.deepEqual(forced, { kind: 'no-update' });
    assert.ok(served.server.requests.length > requests, 'force checks');
    assert.ok(events.all('warning').some((w) => /update-not-available listener threw/.test(w.message)));
  });

  it('a security failure is reported and waits the full interval, not a retry loop', async () => {
    const dirs = await installed(served, '1.0.0');
    const proxy = await startFaultProxy(served.server.url, [
      {
        match: (p) => p.includes('timestamp.json'),
        fault: { kind: 'replace', body: Buffer.from('{"signed":{},"signatures":[]}') },
        times: Number.POSITIVE_INFINITY,
      },
    ]);
    try {
      const client = clientFor(served, {
        currentVersion: '1.0.0',
        ...dirs,
        metadataUrl: `${proxy.url}/metadata/`,
        targetsUrl: `${proxy.url}/targets/`,
      });
      const updater = new AutoUpdater({
        client,
        interval: 60 * 60 * 1000,
        retryDelay: 10,
        maxRetryDelay: 10,
      });
      const events = recorder(updater);
      const error = events.next('error');
      updater.start();
      const e = await error;
      assert.equal(e.transient, false);
      assert.equal(e.class, 'security');
      assert.match(e.error.code, /^METADATA_/);
      const plan = events.all('check-scheduled').at(-1);
      assert.equal(plan?.reason, 'interval');
      assert.ok((plan?.delayMs ?? 0) >= 0.9 * 60 * 60 * 1000 - 1000, `waits the interval (${plan?.delayMs})`);
      assert.ok(e.nextCheckAt !== null && e.nextCheckAt - Date.now() > 30 * 60 * 1000);
      updater.stop();
      assert.equal(await readFile(join(dirs.installDir, 'VERSION'), 'utf8'), '1.0.0\n');
    } finally {
      await proxy.close();
    }
  });

  it('a damaged state file is ignored with a warning and rewritten', async () => {
    const dirs = await installed(served, '1.1.0');
    await mkdir(dirs.cacheDir, { recursive: true });
    await writeFile(join(dirs.cacheDir, 'auto-update.json'), '{"format": "notsotuf-auto-up');
    const updater = updaterFor(served, dirs, '1.1.0');
    const events = recorder(updater);
    assert.deepEqual(await updater.checkNow(), { kind: 'no-update' });
    assert.ok(events.all('warning').some((w) => /damaged/.test(w.message)));
    const state = JSON.parse(await readFile(join(dirs.cacheDir, 'auto-update.json'), 'utf8'));
    assert.equal(state.lastResult, 'no-update');
  });

  it('stop() aborts a running check: the result says so, no error is emitted, nothing is recorded as failed', async () => {
    const dirs = await installed(served, '1.0.0');
    const updater = updaterFor(served, dirs, '1.0.0');
    const events = recorder(updater);
    const running = updater.checkNow();
    updater.stop();
    assert.deepEqual(await running, { kind: 'aborted' });
    assert.deepEqual(events.all('error'), []);
    const state = JSON.parse(await readFile(join(dirs.cacheDir, 'auto-update.json'), 'utf8'));
    assert.equal(state.failures, 0);
  });

  it('quitAndInstall without a download throws UPDATE_NOT_CHECKED', async () => {
    const dirs = await installed(served, '1.1.0');
    const updater = updaterFor(served, dirs, '1.1.0');
    await assert.rejects(updater.quitAndInstall(), { code: 'UPDATE_NOT_CHECKED' });
  });

  it('versioned layout, next launch: the new version is selected in install.json, the running one untouched', async () => {
    const own = await servedRepo(join(work, 'versioned'), [
      { version: '1.0.0', files: versionedScriptApp('1.0.0') },
      { version: '1.1.0', files: versionedScriptApp('1.1.0') },
    ]);
    try {
      const root = join(work, 'versioned', 'root');
      const cacheDir = join(work, 'versioned', 'cache');
      const archive = await publishedArchive(own.repo, 'app-1.0.0.tar.gz');
      await gunzipToFile(archive, join(work, 'versioned', 'installer.tar'));
      await extractTar(join(work, 'versioned', 'installer.tar'), join(work, 'versioned', 'installer'));
      await mkdir(root);
      await versionedStrategy({ entry: 'app.mjs' }).install({
        sourceDir: join(work, 'versioned', 'installer'),
        installDir: root,
        version: '1.0.0',
      });
      const running = await snapshotTree(join(root, 'versions', '1.0.0'));

      const client = clientFor(own, { currentVersion: '1.0.0', installDir: root, cacheDir });
      const updater = new AutoUpdater({ client, autoInstall: true });
      const events = recorder(updater);
      const result = await updater.checkNow();
      assert.equal(result.kind, 'downloaded');
      assert.equal(result.kind === 'downloaded' && result.ready, 'next-launch');
      assert.equal(events.all('update-downloaded')[0]?.ready, 'next-launch');
      const state = await readInstallState(root);
      assert.equal(state?.current, '1.1.0');
      assert.equal(state?.previous, '1.0.0');
      assert.deepEqual(
        await snapshotTree(join(root, 'versions', '1.0.0')),
        running,
        'the running version is untouched',
      );

      let exited = 0;
      const quit = await updater.quitAndInstall({ exit: () => exited++ });
      assert.deepEqual(quit, { version: '1.1.0', kind: 'next-launch' });
      assert.equal(exited, 1);
      assert.equal((await readInstallState(root))?.current, '1.1.0');
    } finally {
      await own.close();
      await rm(join(work, 'versioned', 'installer.tar'), { force: true });
    }
  });
});
