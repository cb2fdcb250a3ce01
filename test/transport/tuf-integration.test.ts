/**
 * The fetcher under a real tuf-js Updater, against the tufup v0.10 fixture repository served over HTTP: the
 * root-rotation walk must end at the 404 of `4.root.json`, and targets must download and verify.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Updater } from 'tuf-js';
import { serveDirectory } from '../../src/server/static-server.js';
import { type MirrorSource, ResilientFetcher } from '../../src/transport/index.js';
import { deadUrl, tempDir } from './fault-server.js';

const REPO = join(import.meta.dirname, '..', 'fixtures', 'tufup-repo-v0.10', 'repository');

function mirror(base: string): MirrorSource {
  return { metadataUrl: `${base}/metadata`, targetsUrl: `${base}/targets` };
}

describe('ResilientFetcher with tuf-js on the tufup fixture', () => {
  for (const deadFirst of [false, true]) {
    test(deadFirst ? 'with a dead first mirror' : 'one mirror', async (t) => {
      const paths: string[] = [];
      const server = await serveDirectory({
        root: REPO,
        onRequest: (r) => paths.push(`${r.status} ${r.path}`),
      });
      t.after(() => server.close());
      const work = await tempDir(t);
      const metadataDir = join(work, 'metadata');
      const targetDir = join(work, 'targets');
      await mkdir(metadataDir);
      await mkdir(targetDir);
      await copyFile(join(REPO, 'metadata', '1.root.json'), join(metadataDir, 'root.json'));

      const mirrors = deadFirst ? [mirror(await deadUrl()), mirror(server.url)] : [mirror(server.url)];
      const fetcher = new ResilientFetcher(mirrors, { retries: 1, retryDelayMs: 10 });
      const updater = new Updater({
        metadataDir,
        metadataBaseUrl: fetcher.metadataBaseUrl,
        targetDir,
        targetBaseUrl: fetcher.targetBaseUrl,
        fetcher,
      });
      await updater.refresh();
      const root = JSON.parse(await readFile(join(metadataDir, 'root.json'), 'utf8')) as {
        signed: { version: number };
      };
      assert.equal(root.signed.version, 3);
      assert.ok(paths.includes('404 /metadata/4.root.json'), paths.join('\n'));

      const info = await updater.getTargetInfo('example_app-2.0.patch');
      assert.ok(info);
      const saved = await updater.downloadTarget(info, join(targetDir, 'example_app-2.0.patch'));
      assert.deepEqual(await readFile(saved), await readFile(join(REPO, 'targets', 'example_app-2.0.patch')));
      assert.ok(paths.includes('200 /targets/example_app-2.0.patch'), paths.join('\n'));
    });
  }
});
