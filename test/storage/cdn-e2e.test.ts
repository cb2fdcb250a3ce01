/**
 * Publishing to real storage, seen from real clients: releases published to OpenStack Swift through its S3 API
 * (s3api) are read by the Client over plain anonymous HTTP from Swift's public container, directly or through
 * nginx as a caching CDN. Proves that clients update through the store's HTTP endpoint, that the Cache-Control
 * the publisher stores makes a CDN safe (and that without it the CDN keeps serving the old timestamp), that a
 * publish racing a client's refresh never shows the client a mixed state, and that a publisher killed mid-upload
 * leaves nothing a re-run cannot finish. Each part reports itself skipped when Swift or nginx is missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/client.js';
import { IMMUTABLE, REVALIDATE } from '../../src/core/http-headers.js';
import type { ObjectStore, PutOptions } from '../../src/storage/object-store.js';
import { publishRepository } from '../../src/storage/publish.js';
import { LOCK_KEY } from '../../src/storage/publish-lock.js';
import { makeBundle, tempDir } from '../cli/files.js';
import { CLI_PATH, cli, cliEnv } from '../cli/run-cli.js';
import { appFiles, installArchive, publish, publishedArchive } from '../helpers/client-fixtures.js';
import { nginxMissing, startHoldProxy, startNginxCdn } from '../helpers/nginx-cdn.js';
import { createTestRepo, snapshotTree, type TestRepo, writeBundle } from '../helpers/repo-fixtures.js';
import { BUCKET, type StoreEnv, startStoreEnv, verifyDestination } from '../helpers/store-kinds.js';
import { swiftMissing } from '../helpers/swift-server.js';

const noSwift = swiftMissing();
const noNginx = nginxMissing();

let env: StoreEnv;
/** The bucket as anonymous clients read it: `http://127.0.0.1:PORT/v1/AUTH_test/repos`. */
let publicUrl: URL;
let n = 0;

before(async () => {
  env = await startStoreEnv('notsotuf-cdn-');
  if (!env.swift) return;
  // Swift's native API: log in as the tempauth user, then let anyone read the bucket's container.
  const auth = await fetch(`${env.swift.endpoint}/auth/v1.0`, {
    headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' },
  });
  assert.equal(auth.status, 200);
  publicUrl = new URL(`${auth.headers.get('x-storage-url')}/${BUCKET}`);
  const acl = await fetch(publicUrl, {
    method: 'POST',
    headers: { 'X-Auth-Token': auth.headers.get('x-auth-token')!, 'X-Container-Read': '.r:*,.rlistings' },
  });
  assert.ok(acl.ok, `making the container public: HTTP ${acl.status}`);
});
after(() => env?.stop());

async function newRepo(versions: string[]): Promise<TestRepo> {
  const repo = await createTestRepo(join(env.work, `repo-${n++}`));
  await addReleases(repo, versions);
  return repo;
}

async function addReleases(repo: TestRepo, versions: string[]): Promise<void> {
  await publish(
    await repo.open(),
    repo.cwd,
    versions.map((version) => ({ version, files: appFiles(version) })),
  );
}

/** `store` with another putFile (the same object for everything else). */
function withPut(store: ObjectStore, putFile: ObjectStore['putFile']): ObjectStore {
  return {
    description: store.description,
    list: (prefix) => store.list(prefix),
    putFile,
    getBytes: (key, max) => store.getBytes(key, max),
    getFile: (key, path) => store.getFile(key, path),
    delete: (key) => store.delete(key),
    createExclusive: (key, bytes, options) => store.createExclusive(key, bytes, options),
  };
}

/** A publisher that sets no Cache-Control at all (the S3 store then sends none: the SDK omits undefined). */
function withoutCacheControl(store: ObjectStore): ObjectStore {
  return withPut(store, (key, path, { cacheControl: _, ...rest }) =>
    store.putFile(key, path, rest as PutOptions),
  );
}

/** An app installed at `version` from the repository's archive, with the archive cached (base of a patch). */
async function installed(repo: TestRepo, version: string) {
  const dir = join(env.work, `client-${n++}`);
  const archive = `app-${version}.tar.gz`;
  const installDir = join(dir, 'app');
  const cacheDir = join(dir, 'cache');
  await installArchive(await publishedArchive(repo, archive), archive, installDir, cacheDir);
  return { installDir, cacheDir };
}

/** A Client reading the repository at `base` (…/<prefix>, over HTTP), trusting the repository's first root. */
function clientOf(
  repo: TestRepo,
  base: string,
  app: { currentVersion: string; installDir: string; cacheDir: string },
) {
  return new Client({
    appName: 'app',
    metadataUrl: `${base}/metadata/`,
    targetsUrl: `${base}/targets/`,
    trustedRoot: { path: join(repo.metadataDir, '1.root.json') },
    fetch: { retryDelayMs: 5, stallTimeoutMs: 30_000 },
    ...app,
  });
}

/** The newest release a new client of `base` (fresh cache, installed 1.0.0) is offered, or null. */
async function offered(repo: TestRepo, base: string): Promise<string | null> {
  const dir = join(env.work, `fresh-${n++}`);
  const client = clientOf(repo, base, {
    currentVersion: '1.0.0',
    installDir: join(dir, 'app'),
    cacheDir: join(dir, 'cache'),
  });
  return (await client.checkForUpdates())?.version ?? null;
}

type Timestamp = { signed: { meta: Record<string, { version: number }> } };

async function localTimestamp(repo: TestRepo): Promise<Timestamp> {
  return JSON.parse(await readFile(join(repo.metadataDir, 'timestamp.json'), 'utf8')) as Timestamp;
}

/** Resolves with `waited`, or fails when `other` settles first (so a missed hold fails instead of hanging). */
function first<T>(waited: Promise<T>, other: Promise<unknown>, what: string): Promise<T> {
  return Promise.race([
    waited,
    other.then(
      () => Promise.reject(new Error(`${what} never happened`)),
      (e) => Promise.reject(e),
    ),
  ]);
}

describe('publish to S3 (OpenStack Swift), clients over plain HTTP', { skip: noSwift }, () => {
  test('a client on 1.0.0 updates to 1.1.0 by patch with GETs to Swift; the stored headers come back', async () => {
    const repo = await newRepo(['1.0.0', '1.1.0']);
    const prefix = `direct-${n++}`;
    const s3 = await env.s3For(prefix);
    await publishRepository({ repoDir: repo.repoDir, store: s3 });
    const direct = `${publicUrl}/${prefix}`;
    const keys = (await s3.list('')).map((o) => o.key);
    const patch = keys.find((k) => k.endsWith('app-1.1.0.patch'))!;
    const archive = keys.find((k) => k.endsWith('app-1.1.0.tar.gz'))!;
    for (const [key, cacheControl, contentType] of [
      ['metadata/timestamp.json', REVALIDATE, 'application/json'],
      ['metadata/snapshot.json', REVALIDATE, 'application/json'],
      ['metadata/1.root.json', IMMUTABLE, 'application/json'],
      [archive, IMMUTABLE, 'application/gzip'],
      [patch, IMMUTABLE, 'application/octet-stream'],
    ] as const) {
      const r = await fetch(`${direct}/${key}`);
      await r.arrayBuffer();
      assert.equal(r.status, 200, key);
      assert.equal(r.headers.get('cache-control'), cacheControl, key);
      assert.equal(r.headers.get('content-type'), contentType, key);
    }

    const proxy = await startHoldProxy(publicUrl.origin);
    try {
      const app = await installed(repo, '1.0.0');
      const client = clientOf(repo, `${proxy.url}${publicUrl.pathname}/${prefix}`, {
        currentVersion: '1.0.0',
        ...app,
      });
      const info = await client.checkForUpdates();
      assert.equal(info?.version, '1.1.0');
      assert.equal(info.method.kind, 'patch');
      const download = await client.downloadUpdate();
      assert.equal(download.method, 'patch');
      assert.equal(download.fellBack, false);
      assert.deepEqual(await client.installUpdate(), { version: '1.1.0', outcome: { kind: 'installed' } });
      const expected = await writeBundle(join(env.work, `expected-${n++}`), appFiles('1.1.0'));
      assert.deepEqual(await snapshotTree(app.installDir), await snapshotTree(expected));
      assert.ok(proxy.requests.length > 0);
      assert.deepEqual(
        proxy.requests.filter((r) => !r.startsWith('GET ')),
        [],
        'clients only GET',
      );
      const targets = proxy.requests.filter((r) => r.includes('/targets/'));
      assert.deepEqual(targets, [`GET ${publicUrl.pathname}/${prefix}/${patch}`], 'only the patch');
    } finally {
      await proxy.close();
      s3.close();
    }
  });

  test('a publish held before timestamp.json: clients see the old release, then the new one', async () => {
    const repo = await newRepo(['1.0.0', '1.1.0']);
    const prefix = `held-publisher-${n++}`;
    const s3 = await env.s3For(prefix);
    await publishRepository({ repoDir: repo.repoDir, store: s3 });
    await addReleases(repo, ['1.2.0']);
    let atTimestamp!: () => void;
    const reached = new Promise<void>((r) => (atTimestamp = r));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const gated = withPut(s3, async (key, path, options) => {
      if (key === 'metadata/timestamp.json') {
        atTimestamp();
        await gate;
      }
      return s3.putFile(key, path, options);
    });
    const publishing = publishRepository({ repoDir: repo.repoDir, store: gated });
    await first(reached, publishing, 'the upload of timestamp.json');
    const keys = (await s3.list('')).map((o) => o.key);
    assert.ok(
      keys.some((k) => k.endsWith('app-1.2.0.tar.gz')),
      'the new archive is already there',
    );
    const snapshot = (await localTimestamp(repo)).signed.meta['snapshot.json']!.version;
    assert.ok(keys.includes(`metadata/${snapshot}.snapshot.json`), 'the new snapshot is already there');

    const app = await installed(repo, '1.0.0');
    const base = `${publicUrl}/${prefix}`;
    const during = await clientOf(repo, base, { currentVersion: '1.0.0', ...app }).checkForUpdates();
    assert.equal(during?.version, '1.1.0');
    open();
    assert.equal((await publishing).uploaded.at(-1), 'metadata/timestamp.json');
    const afterwards = await clientOf(repo, base, { currentVersion: '1.0.0', ...app }).checkForUpdates();
    assert.equal(afterwards?.version, '1.2.0');
    s3.close();
  });

  test('a client held after timestamp.json while a whole publish runs: old state, no error; then the new one', async () => {
    const repo = await newRepo(['1.0.0', '1.1.0']);
    const prefix = `held-client-${n++}`;
    const s3 = await env.s3For(prefix);
    await publishRepository({ repoDir: repo.repoDir, store: s3 });
    const proxy = await startHoldProxy(publicUrl.origin);
    try {
      const base = `${proxy.url}${publicUrl.pathname}/${prefix}`;
      const app = await installed(repo, '1.0.0');
      const held = proxy.hold(/\/metadata\/\d+\.snapshot\.json$/);
      const checking = clientOf(repo, base, { currentVersion: '1.0.0', ...app }).checkForUpdates();
      const heldPath = await first(held.reached, checking, 'the request for the snapshot');
      assert.ok(proxy.requests.some((r) => r.endsWith('/metadata/timestamp.json')));

      await addReleases(repo, ['1.2.0']);
      await publishRepository({ repoDir: repo.repoDir, store: s3 });
      const ts = (await (await fetch(`${publicUrl}/${prefix}/metadata/timestamp.json`)).json()) as Timestamp;
      const heldVersion = Number(/(\d+)\.snapshot\.json$/.exec(heldPath)![1]);
      assert.ok(ts.signed.meta['snapshot.json']!.version > heldVersion, 'published meanwhile');

      held.release();
      assert.equal((await checking)?.version, '1.1.0');
      const again = await clientOf(repo, base, { currentVersion: '1.0.0', ...app }).checkForUpdates();
      assert.equal(again?.version, '1.2.0');
    } finally {
      await proxy.close();
      s3.close();
    }
  });

  test('the CLI killed (SIGKILL) mid-upload to S3: no timestamp without its files; a re-run completes', async () => {
    const swift = env.swift!;
    const cwd = await tempDir('notsotuf-cdn-cli-');
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    for (const version of ['1.0.0', '1.1.0']) {
      const bundle = await makeBundle(join(cwd, `b-${version}`), version);
      await writeFile(join(bundle, 'blob.bin'), randomBytes(24 << 20)); // incompressible: uploads take a moment
      await cli(['release', 'add', bundle, '--version', version, '--skip-patch'], { cwd });
    }
    const prefix = `killed-${n++}`;
    const args = ['publish', '--to', `s3://${BUCKET}/${prefix}`, '--s3-endpoint', swift.endpoint];
    const aws = {
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_PROFILE: undefined,
      AWS_ENDPOINT_URL: undefined,
      AWS_ENDPOINT_URL_S3: undefined,
    };
    const store = await env.s3For(prefix);
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd,
      env: cliEnv(aws),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise((r) => child.once('exit', r));
    // Kill it as soon as a first target is in the bucket (S3 objects appear only once complete).
    while (child.exitCode === null && (await store.list('targets/')).length === 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    assert.equal(
      child.signalCode,
      'SIGKILL',
      `the publisher was still running when killed (exit ${child.exitCode}):\n${stderr}`,
    );
    const keys = (await store.list('')).map((o) => o.key);
    assert.ok(keys.includes(LOCK_KEY), 'the killed publisher left its lock behind');
    if (keys.includes('metadata/timestamp.json')) assert.equal(await verifyDestination(store, env.work), 2);
    else assert.ok(!keys.includes('metadata/snapshot.json'), 'no snapshot before its targets');

    // The re-run takes over the dead publisher's lock (same host, process gone) and finishes the job.
    const rerun = await cli([...args, '--json'], { cwd, env: aws });
    assert.equal(rerun.json<{ ok: boolean }>().ok, true);
    assert.equal(await verifyDestination(store, env.work), 2);
    assert.ok(!(await store.list('')).some((o) => o.key === LOCK_KEY), 'no lock left');
    store.close();
  });
});

describe('a CDN (nginx, proxy_cache_valid 200 10m) in front of Swift', { skip: noSwift || noNginx }, () => {
  for (const headers of [true, false]) {
    const name = headers
      ? "with the publisher's Cache-Control, clients behind the CDN see a new release at once"
      : 'without Cache-Control, the CDN keeps serving the old timestamp: clients miss the new release';
    test(name, async () => {
      const repo = await newRepo(['1.0.0', '1.1.0']);
      const prefix = `cdn-${headers ? 'headers' : 'none'}-${n++}`;
      const s3 = await env.s3For(prefix);
      const store = headers ? s3 : withoutCacheControl(s3);
      await publishRepository({ repoDir: repo.repoDir, store });
      const direct = `${publicUrl}/${prefix}`;
      const origin = await fetch(`${direct}/metadata/timestamp.json`);
      await origin.arrayBuffer();
      assert.equal(origin.headers.get('cache-control'), headers ? REVALIDATE : null, 'what Swift answers');

      const cdn = await startNginxCdn(publicUrl.origin, { cacheValid200: '10m' });
      try {
        const base = `${cdn.url}${publicUrl.pathname}/${prefix}`;
        // Two clients update 1.0.0 → 1.1.0 through the CDN; the second is served from its cache.
        const updateVia = async () => {
          const app = await installed(repo, '1.0.0');
          const result = await clientOf(repo, base, { currentVersion: '1.0.0', ...app }).update();
          assert.equal(result?.info.version, '1.1.0');
          assert.equal(result.info.method.kind, 'patch');
          assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
          return app;
        };
        const a = await updateVia();
        const seenBefore = (await cdn.requests()).length;
        await updateVia();
        const second = (await cdn.requests()).slice(seenBefore);
        const cache = (re: RegExp) => second.filter((r) => re.test(r.path)).map((r) => r.cache);
        assert.deepEqual(cache(/\/targets\/[0-9a-f]{64}\.app-1\.1\.0\.patch$/), ['HIT'], 'the patch');
        const versioned = cache(/\/metadata\/\d+\.(snapshot|targets)\.json$/);
        assert.equal(versioned.length, 2);
        assert.deepEqual(versioned, ['HIT', 'HIT'], 'versioned metadata');
        // no-cache is honoured even though proxy_cache_valid would keep the answer for 10 minutes.
        assert.deepEqual(cache(/\/metadata\/timestamp\.json$/), [headers ? 'MISS' : 'HIT'], 'timestamp.json');

        await addReleases(repo, ['1.2.0']);
        await publishRepository({ repoDir: repo.repoDir, store });
        assert.equal(await offered(repo, direct), '1.2.0', 'the origin has the new release');
        assert.equal(await offered(repo, base), headers ? '1.2.0' : '1.1.0', 'a new client behind the CDN');
        const updated = await clientOf(repo, base, { currentVersion: '1.1.0', ...a }).checkForUpdates();
        assert.equal(
          updated?.version ?? null,
          headers ? '1.2.0' : null,
          'the client on 1.1.0 behind the CDN',
        );
      } catch (err) {
        throw new Error(`${String(err)}\n--- nginx\n${await cdn.logs()}`, { cause: err });
      } finally {
        await cdn.stop();
        s3.close();
      }
    });
  }
});
