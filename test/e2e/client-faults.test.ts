/**
 * Faults on the wire, over real HTTP: a proxy in front of the repository drops, stalls, pads or swaps responses.
 * The client must resume or retry where that is safe, fall back from a bad patch to the full archive, and otherwise
 * fail with a specific code — never installing anything it did not verify, and never touching the installed app.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  appFiles,
  clientFor,
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { expectCode, makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';

describe('client: faults on the wire', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-faults-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }) },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  /** A fresh install of 1.0.0 (its archive kept in the client cache when `cacheArchive`). */
  async function installed(cacheArchive: boolean) {
    const name = `case-${n++}`;
    const installDir = join(work, name, 'app');
    const cacheDir = join(work, name, 'cache');
    const archiveName = 'app-1.0.0.tar.gz';
    await installArchive(
      await publishedArchive(served.repo, archiveName),
      archiveName,
      installDir,
      cacheDir,
      cacheArchive,
    );
    return { installDir, cacheDir };
  }

  /** An installed 1.0.0 and a client that talks to the repository through a faulty proxy. */
  async function setup(rules: { match: RegExp; fault: Fault; times?: number }[], cacheArchive = false) {
    const { installDir, cacheDir } = await installed(cacheArchive);
    const proxy: FaultProxy = await startFaultProxy(
      served.server.url,
      rules.map((r) => ({
        match: (p: string) => r.match.test(p),
        fault: r.fault,
        ...(r.times === undefined ? {} : { times: r.times }),
      })),
    );
    const client = clientFor(served, {
      currentVersion: '1.0.0',
      installDir,
      cacheDir,
      metadataUrl: `${proxy.url}/metadata/`,
      targetsUrl: `${proxy.url}/targets/`,
      fetch: { retries: 2, retryDelayMs: 5, stallTimeoutMs: 300 },
    });
    const before = await snapshotTree(installDir);
    return { installDir, cacheDir, proxy, client, before };
  }

  const ARCHIVE = /app-1\.1\.0\.tar\.gz$/;
  const PATCH = /app-1\.1\.0\.patch$/;

  it('a connection dropped mid-download is resumed with a Range request, and the file still verifies', async (t) => {
    const { proxy, client, installDir } = await setup([
      { match: ARCHIVE, fault: { kind: 'drop-after', bytes: 1000 } },
    ]);
    t.after(() => proxy.close());
    const result = await client.update();
    assert.equal(result?.download.method, 'full');
    const archiveRequests = proxy.requests.filter((r) => ARCHIVE.test(r.path));
    assert.equal(archiveRequests.length, 2);
    assert.equal(archiveRequests[0]!.fault, 'drop-after');
    assert.equal(archiveRequests[1]!.range, 'bytes=1000-');
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  it('a stalled download times out (idle, not total time) and is retried', async (t) => {
    const { proxy, client, installDir } = await setup([
      { match: ARCHIVE, fault: { kind: 'stall-after', bytes: 500 } },
    ]);
    t.after(() => proxy.close());
    await client.update();
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    assert.ok(proxy.requests.filter((r) => ARCHIVE.test(r.path)).length >= 2);
  });

  it('a server that always stalls → DOWNLOAD_STALLED, the installed app untouched', async (t) => {
    const { proxy, client, installDir, before } = await setup([
      { match: ARCHIVE, fault: { kind: 'stall-after', bytes: 0 }, times: Number.POSITIVE_INFINITY },
    ]);
    t.after(() => proxy.close());
    await expectCode(client.update(), 'DOWNLOAD_STALLED');
    assert.deepEqual(await snapshotTree(installDir), before);
  });

  it('slow retrieval: a server that sends a few bytes per stall period cannot hold the client forever', async (t) => {
    const { proxy, client, installDir, before } = await setup([
      { match: ARCHIVE, fault: { kind: 'stall-after', bytes: 5 }, times: Number.POSITIVE_INFINITY },
    ]);
    t.after(() => proxy.close());
    await expectCode(client.update(), 'DOWNLOAD_STALLED');
    // Bounded by maxAttempts (default 20), not by the size of the file.
    assert.equal(proxy.requests.filter((r) => ARCHIVE.test(r.path)).length, 20);
    assert.deepEqual(await snapshotTree(installDir), before);
  });

  it('a server that sends more bytes than signed → DOWNLOAD_TOO_LARGE, the installed app untouched', async (t) => {
    const { proxy, client, installDir, before } = await setup([
      {
        match: ARCHIVE,
        fault: { kind: 'append', extra: Buffer.alloc(4096, 1) },
        times: Number.POSITIVE_INFINITY,
      },
    ]);
    t.after(() => proxy.close());
    await expectCode(client.update(), 'DOWNLOAD_TOO_LARGE');
    assert.deepEqual(await snapshotTree(installDir), before);
  });

  it('a server that returns a different file → TARGET_VERIFY_FAILED, nothing kept or installed', async (t) => {
    const published = await readFile(await publishedArchive(served.repo, 'app-1.1.0.tar.gz'));
    const evil = Buffer.from(published);
    evil[evil.length - 10] = (evil[evil.length - 10] ?? 0) ^ 0xff;
    const { proxy, client, installDir, cacheDir, before } = await setup([
      { match: ARCHIVE, fault: { kind: 'replace', body: evil }, times: Number.POSITIVE_INFINITY },
    ]);
    t.after(() => proxy.close());
    await expectCode(client.update(), 'TARGET_VERIFY_FAILED');
    assert.deepEqual(await snapshotTree(installDir), before);
    assert.deepEqual(await readdir(join(cacheDir, 'targets')), []);
  });

  it('a patch swapped on the server fails TUF verification → the full archive is used (the patch is not blamed)', async (t) => {
    const { proxy, client, installDir, cacheDir } = await setup(
      [{ match: PATCH, fault: { kind: 'replace', body: Buffer.from('BSDIFF40 not really') } }],
      true,
    );
    t.after(() => proxy.close());
    const warnings: string[] = [];
    client.on('warning', (w) => warnings.push(w.message));
    const result = await client.update();
    assert.equal(result?.info.method.kind, 'patch');
    assert.equal(result?.download.method, 'full');
    assert.equal(result?.download.fellBack, true);
    assert.ok(warnings.some((w) => /TARGET_VERIFY_FAILED/.test(w)));
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    assert.ok(!(await readdir(join(cacheDir, 'targets'))).some((f) => f.endsWith('.failed')));
  });

  it('endless metadata (a timestamp.json that never ends) → DOWNLOAD_TOO_LARGE', async (t) => {
    const { proxy, client } = await setup([
      {
        match: /timestamp\.json$/,
        fault: { kind: 'append', extra: Buffer.alloc(1024 * 1024, 32) },
        times: Number.POSITIVE_INFINITY,
      },
    ]);
    t.after(() => proxy.close());
    await expectCode(client.checkForUpdates(), 'DOWNLOAD_TOO_LARGE');
  });

  it('HTTP 500 on a target is retried; a lasting 503 → DOWNLOAD_FAILED', async (t) => {
    const once = await setup([{ match: ARCHIVE, fault: { kind: 'status', status: 500 } }]);
    t.after(() => once.proxy.close());
    await once.client.update();
    assert.equal(await readFile(join(once.installDir, 'VERSION'), 'utf8'), '1.1.0\n');

    const always = await setup([
      { match: ARCHIVE, fault: { kind: 'status', status: 503 }, times: Number.POSITIVE_INFINITY },
    ]);
    t.after(() => always.proxy.close());
    await expectCode(always.client.update(), 'DOWNLOAD_FAILED');
    assert.deepEqual(await snapshotTree(always.installDir), always.before);
  });

  it('a second mirror is used when the first one is down', async () => {
    const { installDir, cacheDir } = await installed(false);
    const client = clientFor(served, {
      currentVersion: '1.0.0',
      installDir,
      cacheDir,
      mirrors: [
        { metadataUrl: 'http://127.0.0.1:9/metadata/', targetsUrl: 'http://127.0.0.1:9/targets/' },
        { metadataUrl: `${served.server.url}/metadata/`, targetsUrl: `${served.server.url}/targets/` },
      ],
      fetch: { retries: 0, retryDelayMs: 1 },
    });
    await client.update();
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  it('a repository directory works as an offline source (no server)', async () => {
    const { installDir, cacheDir } = await installed(true);
    const client = clientFor(served, {
      currentVersion: '1.0.0',
      installDir,
      cacheDir,
      metadataUrl: served.repo.metadataDir,
      targetsUrl: served.repo.targetsDir,
    });
    const result = await client.update();
    assert.equal(result?.download.method, 'patch');
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });
});
