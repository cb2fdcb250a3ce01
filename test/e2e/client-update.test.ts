/**
 * The client end to end: the real publisher makes a repository, a real HTTP server on 127.0.0.1 serves it, the
 * Client updates an installed app by patch or full archive, and the installed tree is compared with the bundle.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientEventMap } from '../../src/client/events.js';
import {
  appFiles,
  clientFor,
  installArchive,
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { expectCode, makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';

async function bundleTree(work: string, version: string, files: Record<string, string | Buffer>) {
  return snapshotTree(await writeBundle(join(work, `expected-${version}`), files));
}

describe('client: patch and full updates over HTTP', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      {
        version: '1.1.0',
        files: appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' }),
        userMeta: { changes: ['new file'] },
      },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  async function installed(name: string, version: string, cacheArchive = true) {
    const installDir = join(work, name, 'app');
    const cacheDir = join(work, name, 'cache');
    const archiveName = `app-${version}.tar.gz`;
    await installArchive(
      await publishedArchive(served.repo, archiveName),
      archiveName,
      installDir,
      cacheDir,
      cacheArchive,
    );
    return { installDir, cacheDir };
  }

  it('updates 1.0.0 → 1.1.0 with the patch: only the patch is downloaded, the tree equals the new bundle', async () => {
    const { installDir, cacheDir } = await installed('patch', '1.0.0');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const events: (keyof ClientEventMap)[] = [];
    const progress: ClientEventMap['download-progress'][] = [];
    for (const name of [
      'checking',
      'update-available',
      'patching',
      'extracting',
      'installing',
      'done',
    ] as const) {
      client.on(name, () => events.push(name));
    }
    client.on('download-progress', (p) => progress.push(p));
    const first = served.server.requests.length;

    const info = await client.checkForUpdates();
    assert.ok(info);
    assert.equal(info.version, '1.1.0');
    assert.deepEqual(info.user, { changes: ['new file'] });
    assert.equal(info.method.kind, 'patch');
    assert.ok(info.downloadBytes < info.archiveBytes);

    const download = await client.downloadUpdate();
    assert.equal(download.method, 'patch');
    assert.equal(download.fellBack, false);
    const result = await client.installUpdate();
    assert.deepEqual(result, { version: '1.1.0', outcome: { kind: 'installed' } });

    assert.deepEqual(
      await snapshotTree(installDir),
      await bundleTree(work, '1.1.0', appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' })),
    );
    const targetRequests = served.server.requests.slice(first).filter((p) => p.startsWith('/targets/'));
    assert.equal(targetRequests.length, 1);
    assert.match(targetRequests[0]!, /app-1\.1\.0\.patch$/);
    // Progress covers the whole plan and ends at its total.
    assert.ok(progress.length > 0);
    assert.equal(progress.at(-1)!.bytes, info.downloadBytes);
    assert.equal(progress.at(-1)!.total, info.downloadBytes);
    assert.deepEqual(
      [...new Set(events)],
      ['checking', 'update-available', 'patching', 'extracting', 'installing', 'done'],
    );
    // The cache keeps only the new verified tar (base of the next patch, uncompressed: the next update only hashes
    // it); the installer's 1.0.0 archive and the patch are gone, and no scratch files remain.
    assert.deepEqual(await readdir(join(cacheDir, 'targets')), ['app-1.1.0.tar']);
    assert.deepEqual(await readdir(join(cacheDir, 'work')), []);

    // Restarted on 1.1.0 with the same cache: nothing newer.
    const again = clientFor(served, { currentVersion: '1.1.0', installDir, cacheDir });
    assert.equal(await again.checkForUpdates(), null);
  });

  it('downloads the full archive when no archive of the installed version is cached', async () => {
    const { installDir, cacheDir } = await installed('full', '1.0.0', false);
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const result = await client.update();
    assert.ok(result);
    assert.equal(result.info.method.kind, 'full');
    assert.equal(result.info.method.kind === 'full' && result.info.method.reason, 'no-cached-archive');
    assert.equal(result.download.bytes, result.info.archiveBytes);
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  it('uses the full archive when patches are disabled, and says why', async () => {
    const { installDir, cacheDir } = await installed('nopatch', '1.0.0');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir, allowPatches: false });
    const info = await client.checkForUpdates();
    assert.equal(info?.method.kind === 'full' && info.method.reason, 'patches-disabled');
  });

  it('does not trust a cached archive whose bytes were changed: full archive instead', async () => {
    const { installDir, cacheDir } = await installed('tampered-cache', '1.0.0');
    await writeFile(join(cacheDir, 'targets', 'app-1.0.0.tar.gz'), 'not the archive');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const warnings: string[] = [];
    client.on('warning', (w) => warnings.push(w.message));
    const result = await client.update();
    assert.equal(result?.info.method.kind === 'full' && result.info.method.reason, 'cached-archive-mismatch');
    assert.ok(warnings.some((w) => /cached archive/.test(w)));
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  it('recovers when the cache directory is deleted or its metadata is corrupt between runs', async () => {
    const { installDir, cacheDir } = await installed('cache-gone', '1.0.0');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    assert.ok(await client.checkForUpdates());
    await writeFile(join(cacheDir, 'metadata', 'root.json'), '{"broken":');
    await writeFile(join(cacheDir, 'metadata', 'timestamp.json'), 'garbage');
    const warnings: string[] = [];
    const second = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    second.on('warning', (w) => warnings.push(w.message));
    assert.equal((await second.checkForUpdates())?.version, '1.1.0');
    assert.ok(warnings.some((w) => /bundled root/.test(w)));
    await rm(cacheDir, { recursive: true, force: true });
    const third = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const result = await third.update();
    assert.equal(result?.info.method.kind, 'full');
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  it('refuses a cached root.json that does not descend from the bundled root (local tampering)', async () => {
    const { installDir, cacheDir } = await installed('root-swap', '1.0.0');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    await client.checkForUpdates();
    // An attacker with write access to the cache plants a root of their own (here: a real root with one more
    // version and a changed expiry, so its signatures no longer verify).
    const cached = JSON.parse(await readFile(join(cacheDir, 'metadata', 'root.json'), 'utf8'));
    cached.signed.version += 1;
    await writeFile(join(cacheDir, 'metadata', 'root.json'), JSON.stringify(cached));
    const warnings: string[] = [];
    const next = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    next.on('warning', (w) => warnings.push(w.message));
    assert.ok(await next.checkForUpdates());
    assert.ok(warnings.some((w) => /does not descend/.test(w)));
    const root = JSON.parse(await readFile(join(cacheDir, 'metadata', 'root.json'), 'utf8'));
    assert.equal(root.signed.version, 1);
  });

  it('two clients of one cache cannot work at once (CACHE_LOCKED), and the lock is released afterwards', async () => {
    const { installDir, cacheDir } = await installed('lock', '1.0.0');
    const a = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const b = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    const results = await Promise.allSettled([a.checkForUpdates(), b.checkForUpdates()]);
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal((rejected[0] as PromiseRejectedResult).reason.code, 'CACHE_LOCKED');
    assert.ok(await b.checkForUpdates());
  });

  it('download and install need a check first (UPDATE_NOT_CHECKED)', async () => {
    const { installDir, cacheDir } = await installed('order', '1.0.0');
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    await expectCode(client.downloadUpdate(), 'UPDATE_NOT_CHECKED');
    await expectCode(client.installUpdate(), 'UPDATE_NOT_CHECKED');
  });

  it('an aborted download leaves the installed app as it was', async () => {
    const { installDir, cacheDir } = await installed('abort', '1.0.0', false);
    const before = await snapshotTree(installDir);
    const client = clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir });
    await client.checkForUpdates();
    const controller = new AbortController();
    client.on('download-progress', () => controller.abort());
    await expectCode(client.downloadUpdate({ signal: controller.signal }), 'ABORTED');
    assert.deepEqual(await snapshotTree(installDir), before);
  });
});

describe('client: channels, required releases, key rotation', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-channels-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0'), required: true },
      { version: '1.2.0', files: appFiles('1.2.0') },
      { version: '2.0.0-alpha.1', files: appFiles('2.0.0a1') },
      { version: '2.0.0-beta.1', files: appFiles('2.0.0b1') },
      { version: '2.0.0-rc.1', files: appFiles('2.0.0rc1') },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  async function updateFrom(name: string, version: string, options: Record<string, unknown> = {}) {
    const installDir = join(work, name, 'app');
    const cacheDir = join(work, name, 'cache');
    const archiveName = `app-${version}.tar.gz`;
    await installArchive(await publishedArchive(served.repo, archiveName), archiveName, installDir, cacheDir);
    const client = clientFor(served, { currentVersion: version, installDir, cacheDir, ...options });
    const result = await client.update();
    return { result, installed: (await readFile(join(installDir, 'VERSION'), 'utf8')).trim() };
  }

  const cases: [string, string, Record<string, unknown>, string][] = [
    ['final: 1.0.0 stops at the required 1.1.0', '1.0.0', {}, '1.1.0'],
    ['final: 1.1.0 → 1.2.0 (pre-releases skipped)', '1.1.0', {}, '1.2.0'],
    ['rc: 1.1.0 → 2.0.0-rc.1 by a chain of three patches', '1.1.0', { channel: 'rc' }, '2.0.0rc1'],
    ['beta: 1.2.0 → 2.0.0-rc.1 (rc beats beta)', '1.2.0', { channel: 'beta' }, '2.0.0rc1'],
    [
      'alpha with ignoreRequired: 1.0.0 → 2.0.0-rc.1',
      '1.0.0',
      { channel: 'alpha', ignoreRequired: true },
      '2.0.0rc1',
    ],
  ];
  for (const [name, from, options, expected] of cases) {
    it(name, async () => {
      const { result, installed } = await updateFrom(name.replace(/\W+/g, '-'), from, options);
      assert.equal(installed, expected);
      assert.equal(result?.download.method, 'patch');
    });
  }

  it('follows a root key rotation: a client bundling root v1 updates after the root key was replaced', async () => {
    const repo = await served.repo.open();
    await repo.replaceKey('root', 'root2');
    await publish(repo, work, [{ version: '2.0.0', files: appFiles('2.0.0') }]);
    const { installed } = await updateFrom('rotation', '1.2.0');
    assert.equal(installed, '2.0.0');
    const cacheRoot = JSON.parse(
      await readFile(join(work, 'rotation', 'cache', 'metadata', 'root.json'), 'utf8'),
    );
    assert.equal(cacheRoot.signed.version, 2);
    assert.deepEqual(await readdir(join(work, 'rotation', 'cache', 'metadata', 'root-history')), [
      '2.root.json',
    ]);
  });
});

describe('client: bad input to the constructor', () => {
  it('needs a repository location and a valid version', async () => {
    const { Client } = await import('../../src/client/client.js');
    const base = { appName: 'app', installDir: '/x', cacheDir: '/y', trustedRoot: new Uint8Array() };
    assert.throws(() => new Client({ ...base, currentVersion: '1.0' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(
      () => new Client({ ...base, currentVersion: 'not a version', metadataUrl: 'a', targetsUrl: 'b' }),
      {
        code: 'VERSION_INVALID',
      },
    );
  });

  it('a trusted root that is not a root.json → INVALID_ARGUMENT, nothing written to the install dir', async () => {
    const { dir, cleanup } = await makeTempDir('notsotuf-e2e-badroot-');
    try {
      const { Client } = await import('../../src/client/client.js');
      await mkdir(join(dir, 'app'));
      const client = new Client({
        appName: 'app',
        currentVersion: '1.0',
        installDir: join(dir, 'app'),
        cacheDir: join(dir, 'cache'),
        metadataUrl: 'http://127.0.0.1:9/metadata/',
        targetsUrl: 'http://127.0.0.1:9/targets/',
        trustedRoot: Buffer.from('{"signed":{"_type":"targets"}}'),
      });
      await expectCode(client.checkForUpdates(), 'INVALID_ARGUMENT');
      assert.deepEqual(await readdir(join(dir, 'app')), []);
    } finally {
      await cleanup();
    }
  });
});
