/** Partial target downloads kept in `partialDir` across runs, and never trusted more than fresh bytes. */
import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { type FetcherOptions, ResilientFetcher } from '../../src/transport/index.js';
import { partialFileName } from '../../src/transport/sinks.js';
import { content, send, startServer, tempDir, verifyingHandler } from './fault-server.js';

function fetcherFor(base: string, options: FetcherOptions): ResilientFetcher {
  return new ResilientFetcher([{ metadataUrl: `${base}/metadata`, targetsUrl: `${base}/targets` }], {
    stallTimeoutMs: 10_000,
    retryDelayMs: 10,
    ...options,
  });
}

test('an aborted run leaves its partial; the next run resumes it with a Range request', async (t) => {
  const data = content();
  let stallFirst = true;
  const server = await startServer(t, (req, res) =>
    send(req, res, data, stallFirst ? { stallAt: 100_000 } : {}),
  );
  const partialDir = await tempDir(t);

  const first = fetcherFor(server.url, { partialDir });
  const url = `${first.targetBaseUrl}app-2.0.tar.gz`;
  const controller = new AbortController();
  first.signal = controller.signal;
  first.onProgress = (p) => {
    if (p.bytes >= 100_000) controller.abort();
  };
  await assert.rejects(first.downloadFile(url, data.length, verifyingHandler(data).handler), (err) =>
    isNotsotufError(err, 'ABORTED'),
  );
  const name = partialFileName(url, data.length);
  assert.deepEqual(await readdir(partialDir), [name]);
  const kept = (await stat(join(partialDir, name))).size;
  assert.equal(kept, 100_000, 'every byte received before the abort was kept');

  stallFirst = false;
  const second = fetcherFor(server.url, { partialDir });
  const got = await second.downloadFile(url, data.length, verifyingHandler(data).handler);
  assert.deepEqual(got, data);
  assert.equal(server.requests.at(-1)?.headers.range, `bytes=${kept}-`);
  assert.deepEqual(await readdir(partialDir), [], 'the partial is removed after success');
});

test('a resumed partial whose early bytes changed under the same URL: rejected, then downloaded from zero', async (t) => {
  const data = content();
  const server = await startServer(t, (req, res) => send(req, res, data));
  const partialDir = await tempDir(t);
  const fetcher = fetcherFor(server.url, { partialDir });
  const url = `${fetcher.targetBaseUrl}app-2.0.tar.gz`;
  await writeFile(join(partialDir, partialFileName(url, data.length)), content(50_000));

  const { seen, handler } = verifyingHandler(data);
  assert.deepEqual(await fetcher.downloadFile(url, data.length, handler), data);
  assert.equal(seen.length, 2, 'the handler saw the mixed file, then the fresh one');
  assert.deepEqual(
    server.requests.map((r) => r.headers.range),
    ['bytes=50000-', undefined],
  );
  assert.deepEqual(await readdir(partialDir), []);
});

test('a complete partial from an earlier run goes straight to the handler; a wrong one is fetched again', async (t) => {
  const data = content(10_000);
  const server = await startServer(t, (req, res) => send(req, res, data));
  const partialDir = await tempDir(t);
  const fetcher = fetcherFor(server.url, { partialDir });
  const url = `${fetcher.targetBaseUrl}app.tar.gz`;
  const partial = join(partialDir, partialFileName(url, data.length));

  await writeFile(partial, data);
  assert.deepEqual(await fetcher.downloadFile(url, data.length, verifyingHandler(data).handler), data);
  assert.equal(server.requests.length, 0);

  await writeFile(partial, content(10_000));
  assert.deepEqual(await fetcher.downloadFile(url, data.length, verifyingHandler(data).handler), data);
  assert.deepEqual(
    server.requests.map((r) => r.headers.range),
    [undefined],
  );
});

test('a fresh download the handler rejects is not downloaded again; the partial is removed', async (t) => {
  const data = content(10_000);
  const server = await startServer(t, (req, res) => send(req, res, data));
  const partialDir = await tempDir(t);
  const fetcher = fetcherFor(server.url, { partialDir });
  const { seen, handler } = verifyingHandler(content(10_000));
  await assert.rejects(
    fetcher.downloadFile(`${fetcher.targetBaseUrl}app.tar.gz`, data.length, handler),
    /hash mismatch/,
  );
  assert.equal(seen.length, 1);
  assert.equal(server.requests.length, 1);
  assert.equal(fetcher.lastFailure, undefined, "the handler's error is not a download failure");
  assert.deepEqual(await readdir(partialDir), []);
});

test('a download that fails for good keeps its partial for the next run', async (t) => {
  const data = content();
  const server = await startServer(t, (req, res, n) =>
    n === 0 ? send(req, res, data, { dropAt: 80_000 }) : res.writeHead(503).end(),
  );
  const partialDir = await tempDir(t);
  const fetcher = fetcherFor(server.url, { partialDir, retries: 1 });
  await assert.rejects(
    fetcher.downloadFile(`${fetcher.targetBaseUrl}app.tar.gz`, data.length, async () => 'unused'),
    (err) => isNotsotufError(err, 'DOWNLOAD_FAILED') && err.details['status'] === 503,
  );
  assert.equal((await readdir(partialDir)).length, 1);
});
