/** The fetcher against real HTTP servers on 127.0.0.1 that misbehave on purpose. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { isNotsotufError, NotsotufError } from '../../src/core/errors.js';
import {
  DEFAULT_FETCHER_OPTIONS,
  type DownloadProgress,
  type FetcherOptions,
  ResilientFetcher,
} from '../../src/transport/index.js';
import {
  content,
  deadUrl,
  send,
  sendForever,
  startServer,
  tempDir,
  verifyingHandler,
} from './fault-server.js';

// A long stall timeout unless a test is about stalls: a loaded machine must not turn into a stall.
const FAST: FetcherOptions = { stallTimeoutMs: 10_000, retryDelayMs: 10 };
const STALL: FetcherOptions = { stallTimeoutMs: 150 };

function fetcherFor(bases: readonly string[], options: FetcherOptions = {}): ResilientFetcher {
  return new ResilientFetcher(
    bases.map((b) => ({ metadataUrl: `${b}/metadata`, targetsUrl: `${b}/targets` })),
    { ...FAST, ...options },
  );
}

function targetUrl(fetcher: ResilientFetcher, name = 'app.tar.gz'): string {
  return `${fetcher.targetBaseUrl}${name}`;
}

describe('ResilientFetcher: resuming target downloads', () => {
  test('a connection dropped mid-body is resumed with Range; the file is byte-identical', async (t) => {
    const data = content();
    // The first response stops at 100 000 bytes; once the client has them, the server drops the connection.
    const server = await startServer(t, (req, res, n) =>
      send(req, res, data, n === 0 ? { stallAt: 100_000 } : {}),
    );
    const fetcher = fetcherFor([server.url]);
    const progress: DownloadProgress[] = [];
    fetcher.onProgress = (p) => {
      progress.push(p);
      if (p.bytes === 100_000 && server.requests.length === 1) server.dropConnections();
    };
    const got = await fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler);
    assert.deepEqual(got, data);
    assert.deepEqual(
      server.requests.map((r) => r.headers.range),
      [undefined, 'bytes=100000-'],
    );
    const last = progress.at(-1);
    assert.equal(last?.bytes, data.length);
    assert.equal(last?.total, data.length);
    assert.equal(last?.url, targetUrl(fetcher));
    assert.equal(
      progress.reduce((sum, p) => sum + p.delta, 0),
      data.length,
      'progress counts the resumed bytes once',
    );
  });

  test('a server that ignores Range (always 200): the download starts over from zero', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res, n) =>
      send(req, res, data, { ignoreRange: true, ...(n === 0 ? { stallAt: 100_000 } : {}) }),
    );
    const fetcher = fetcherFor([server.url]);
    fetcher.onProgress = (p) => {
      if (p.bytes === 100_000 && server.requests.length === 1) server.dropConnections();
    };
    const got = await fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler);
    assert.deepEqual(got, data);
    assert.deepEqual(
      server.requests.map((r) => r.headers.range),
      [undefined, 'bytes=100000-'],
    );
  });

  test('a 416 to a resumed request starts over without Range', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res, n) => {
      if (n === 1) res.writeHead(416).end();
      else send(req, res, data, n === 0 ? { stallAt: 100_000 } : {});
    });
    const fetcher = fetcherFor([server.url]);
    fetcher.onProgress = (p) => {
      if (p.bytes === 100_000 && server.requests.length === 1) server.dropConnections();
    };
    const got = await fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler);
    assert.deepEqual(got, data);
    assert.deepEqual(
      server.requests.map((r) => r.headers.range),
      [undefined, 'bytes=100000-', undefined],
    );
  });

  test('a server that stalls forever after some bytes: DOWNLOAD_STALLED after the retries', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res) => send(req, res, data, { stallAt: 50_000 }));
    const fetcher = fetcherFor([server.url], { ...STALL, partialDir: await tempDir(t) });
    await assert.rejects(
      fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler),
      (err) => {
        assert.ok(isNotsotufError(err, 'DOWNLOAD_STALLED'), String(err));
        assert.equal(err.details['stallTimeoutMs'], 150);
        // The attempts that got bytes do not count; then 1 + 3 retries that got none.
        assert.equal(err.details['attempts'], server.requests.length);
        assert.ok(err.hint);
        return true;
      },
    );
    assert.equal(fetcher.lastFailure?.code, 'DOWNLOAD_STALLED');
    const ranges = server.requests.map((r) => r.headers.range);
    assert.ok(ranges.length >= 5);
    assert.deepEqual(ranges.slice(-4), Array(4).fill('bytes=50000-'));
  });

  test('a stall, then the server recovers: the download resumes and succeeds', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res, n) =>
      send(req, res, data, n === 0 ? { stallAt: 60_000 } : {}),
    );
    const fetcher = fetcherFor([server.url]);
    const got = await fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler);
    assert.deepEqual(got, data);
    assert.equal(server.requests[1]?.headers.range, 'bytes=60000-');
  });

  test('the abort signal stops everything at once: ABORTED', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res) => send(req, res, data, { stallAt: 10_000 }));
    const fetcher = fetcherFor([server.url], { stallTimeoutMs: 60_000 });
    const controller = new AbortController();
    fetcher.signal = controller.signal;
    fetcher.onProgress = (p) => {
      if (p.bytes >= 10_000) controller.abort(new Error('user cancelled'));
    };
    await assert.rejects(
      fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler),
      (err) => isNotsotufError(err, 'ABORTED'),
    );
    assert.equal(server.requests.length, 1);
    // An already aborted signal: no request at all.
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 1000), (err) =>
      isNotsotufError(err, 'ABORTED'),
    );
    assert.equal(server.requests.length, 1);
  });
});

describe('ResilientFetcher: too many bytes', () => {
  test('a body longer than maxLength: DOWNLOAD_TOO_LARGE, not retried, partial removed', async (t) => {
    const data = content();
    const server = await startServer(t, (req, res) => send(req, res, data));
    const partialDir = await tempDir(t);
    const fetcher = fetcherFor([server.url], { partialDir });
    await assert.rejects(
      fetcher.downloadFile(targetUrl(fetcher), data.length - 1, async () => 'unused'),
      (err) => isNotsotufError(err, 'DOWNLOAD_TOO_LARGE'),
    );
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}root.json`, 1000), (err) =>
      isNotsotufError(err, 'DOWNLOAD_TOO_LARGE'),
    );
    assert.equal(server.requests.length, 2);
    assert.deepEqual(await readdir(partialDir), []);
  });

  test('a server that never stops sending: DOWNLOAD_TOO_LARGE, partial removed', async (t) => {
    const server = await startServer(t, (_req, res) => sendForever(res));
    const partialDir = await tempDir(t);
    const fetcher = fetcherFor([server.url], { partialDir });
    let handled = false;
    await assert.rejects(
      fetcher.downloadFile(targetUrl(fetcher), 1_000_000, async () => {
        handled = true;
      }),
      (err) => isNotsotufError(err, 'DOWNLOAD_TOO_LARGE') && err.details['maxLength'] === 1_000_000,
    );
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 10_000), (err) =>
      isNotsotufError(err, 'DOWNLOAD_TOO_LARGE'),
    );
    assert.equal(handled, false);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(await readdir(partialDir), []);
  });

  test('one mirror sending endless data does not stop the update: the next mirror serves the file', async (t) => {
    const data = content();
    const bad = await startServer(t, (_req, res) => sendForever(res));
    const good = await startServer(t, (req, res) => send(req, res, data));
    const fetcher = fetcherFor([bad.url, good.url]);
    const got = await fetcher.downloadFile(targetUrl(fetcher), data.length, verifyingHandler(data).handler);
    assert.deepEqual(got, data);
    assert.equal(bad.requests.length, 1, 'not retried on the bad mirror');
    assert.equal(good.requests[0]?.headers.range, undefined, 'nothing from the bad mirror is resumed from');
  });
});

describe('ResilientFetcher: HTTP statuses, retries and mirrors', () => {
  test('404 on every mirror: tuf-js DownloadHTTPError 404 (ends the root walk)', async (t) => {
    const a = await startServer(t, (_req, res) => res.writeHead(404).end());
    const b = await startServer(t, (_req, res) => res.writeHead(403).end());
    const fetcher = fetcherFor([a.url, b.url]);
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}4.root.json`, 1000), (err) => {
      assert.ok(err instanceof DownloadHTTPError);
      assert.equal(err.statusCode, 404);
      return true;
    });
    assert.equal(fetcher.lastFailure?.code, 'DOWNLOAD_FAILED');
    assert.equal(fetcher.lastFailure?.details['status'], 404);
    await assert.rejects(
      fetcher.downloadFile(targetUrl(fetcher), 10, async () => 'unused'),
      (err) => err instanceof DownloadHTTPError,
    );
    assert.deepEqual(
      [...a.requests, ...b.requests].map((r) => r.path),
      ['/metadata/4.root.json', '/targets/app.tar.gz', '/metadata/4.root.json', '/targets/app.tar.gz'],
      'each mirror asked once per file: no retries on 404/403',
    );
  });

  test('500 then 200: retried and delivered; a success clears lastFailure', async (t) => {
    const data = content(4000);
    const server = await startServer(t, (req, res, n) =>
      n === 0 ? res.writeHead(500).end() : send(req, res, data),
    );
    const fetcher = fetcherFor([server.url]);
    fetcher.lastFailure = new NotsotufError('DOWNLOAD_FAILED', 'an earlier failure');
    assert.deepEqual(await fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 10_000), data);
    assert.equal(server.requests.length, 2);
    assert.equal(fetcher.lastFailure, undefined);
  });

  test('500 always: DOWNLOAD_FAILED with status and attempts', async (t) => {
    const server = await startServer(t, (_req, res) => res.writeHead(503).end());
    const fetcher = fetcherFor([server.url], { retries: 2 });
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 1000), (err) => {
      assert.ok(isNotsotufError(err, 'DOWNLOAD_FAILED'));
      assert.equal(err.details['status'], 503);
      assert.equal(err.details['attempts'], 3);
      assert.match(err.hint ?? '', /network/);
      return true;
    });
    assert.equal(server.requests.length, 3);
    assert.equal(fetcher.lastFailure?.code, 'DOWNLOAD_FAILED');
  });

  test('first mirror down (closed port): the second one is used', async (t) => {
    const data = content(5000);
    const server = await startServer(t, (req, res) => send(req, res, data));
    const fetcher = fetcherFor([await deadUrl(), server.url], { retries: 1 });
    assert.ok(fetcher.metadataBaseUrl.startsWith('http://127.0.0.1:'));
    assert.deepEqual(await fetcher.downloadBytes(`${fetcher.metadataBaseUrl}1.root.json`, 10_000), data);
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/metadata/1.root.json'],
    );
  });

  test('404 on the first mirror: the second one is used', async (t) => {
    const data = content(5000);
    const a = await startServer(t, (_req, res) => res.writeHead(404).end());
    const b = await startServer(t, (req, res) => send(req, res, data));
    const fetcher = fetcherFor([a.url, b.url]);
    const got = await fetcher.downloadFile(
      targetUrl(fetcher, 'sub/x.patch'),
      data.length,
      verifyingHandler(data).handler,
    );
    assert.deepEqual(got, data);
    assert.deepEqual(
      b.requests.map((r) => r.path),
      ['/targets/sub/x.patch'],
    );
  });

  test('every mirror unreachable: DOWNLOAD_FAILED naming the network reason', async () => {
    const fetcher = fetcherFor([await deadUrl()], { retries: 1 });
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 1000), (err) => {
      assert.ok(isNotsotufError(err, 'DOWNLOAD_FAILED'));
      assert.equal(err.details['attempts'], 2);
      assert.equal(err.details['reason'], 'ECONNREFUSED');
      assert.ok(err.cause);
      return true;
    });
  });

  test('extra headers and the User-Agent arrive at the server', async (t) => {
    const server = await startServer(t, (req, res) => send(req, res, Buffer.from('{}')));
    const fetcher = fetcherFor([server.url], {
      headers: { Authorization: 'Bearer s3cret', 'X-Channel': 'beta' },
      userAgent: 'my-app/1.2',
    });
    await fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 100);
    await fetcher.downloadFile(targetUrl(fetcher), 2, async () => undefined);
    for (const r of server.requests) {
      assert.equal(r.headers.authorization, 'Bearer s3cret');
      assert.equal(r.headers['x-channel'], 'beta');
      assert.equal(r.headers['user-agent'], 'my-app/1.2');
      assert.equal(r.headers['accept-encoding'], 'identity');
    }
  });

  test('without a userAgent option, requests say notsotuf/<package version>', async (t) => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(DEFAULT_FETCHER_OPTIONS.userAgent, `notsotuf/${version}`);
    const server = await startServer(t, (req, res) => send(req, res, Buffer.from('{}')));
    const fetcher = fetcherFor([server.url]);
    await fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 100);
    assert.equal(server.requests[0]?.headers['user-agent'], `notsotuf/${version}`);
  });

  test('bad options and no mirror: INVALID_ARGUMENT', () => {
    assert.throws(
      () => new ResilientFetcher([]),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => fetcherFor(['http://x'], { retries: -1 }),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => new ResilientFetcher([{ metadataUrl: 'ftp://x/m', targetsUrl: 'relative/dir' }]),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
  });
});
