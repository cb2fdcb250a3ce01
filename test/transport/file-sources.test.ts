/** Repositories on disk: `file://` URLs and plain directory paths, read through the same fetcher. */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { ResilientFetcher } from '../../src/transport/index.js';
import { content, deadUrl, tempDir, verifyingHandler } from './fault-server.js';

async function diskRepo(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'metadata'));
  await mkdir(join(dir, 'targets', 'sub'), { recursive: true });
  const meta = Buffer.from('{"signed":{}}');
  const target = content(300_000);
  await writeFile(join(dir, 'metadata', 'timestamp.json'), meta);
  await writeFile(join(dir, 'targets', 'app.tar.gz'), target);
  return { dir, meta, target };
}

for (const form of ['plain directory path', 'file:// URL'] as const) {
  test(`${form}: files are read, missing files and directories answer 404`, async (t) => {
    const { dir, meta, target } = await diskRepo(t);
    const loc = (p: string) => (form === 'file:// URL' ? pathToFileURL(p).href : p);
    const fetcher = new ResilientFetcher([
      { metadataUrl: loc(join(dir, 'metadata')), targetsUrl: loc(join(dir, 'targets')) },
    ]);
    assert.equal(fetcher.metadataBaseUrl, `${pathToFileURL(join(dir, 'metadata')).href}/`);
    assert.deepEqual(await fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 1000), meta);
    const got = await fetcher.downloadFile(
      `${fetcher.targetBaseUrl}app.tar.gz`,
      target.length,
      verifyingHandler(target).handler,
    );
    assert.deepEqual(got, target);
    for (const missing of [`${fetcher.metadataBaseUrl}2.root.json`, `${fetcher.targetBaseUrl}sub`]) {
      await assert.rejects(
        fetcher.downloadBytes(missing, 1000),
        (err) => err instanceof DownloadHTTPError && err.statusCode === 404,
        missing,
      );
    }
    await assert.rejects(fetcher.downloadBytes(`${fetcher.metadataBaseUrl}timestamp.json`, 5), (err) =>
      isNotsotufError(err, 'DOWNLOAD_TOO_LARGE'),
    );
  });
}

test('a disk mirror behind an unreachable http one (offline updates from a USB stick)', async (t) => {
  const { dir, target } = await diskRepo(t);
  const dead = await deadUrl();
  const fetcher = new ResilientFetcher(
    [
      { metadataUrl: `${dead}/metadata`, targetsUrl: `${dead}/targets` },
      { metadataUrl: join(dir, 'metadata'), targetsUrl: join(dir, 'targets') },
    ],
    { retries: 0 },
  );
  const got = await fetcher.downloadFile(
    `${fetcher.targetBaseUrl}app.tar.gz`,
    target.length,
    verifyingHandler(target).handler,
  );
  assert.deepEqual(got, target);
});
