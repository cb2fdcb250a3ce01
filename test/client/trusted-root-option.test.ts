/**
 * The `trustedRoot` option as users write it: a path string (as the quickstart's `root.json`), `{ path }`, or the
 * bytes; anything else is refused when the Client is made, with a message that says what to pass.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/client.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { appFiles, type PublishedRepo, servedRepo } from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

describe('Client trustedRoot option', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-trusted-root-option-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0') },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  const client = (trustedRoot: unknown, n: number) =>
    new Client({
      appName: 'app',
      currentVersion: '1.0.0',
      installDir: work,
      cacheDir: join(work, `cache-${n}`),
      metadataUrl: `${served.server.url}/metadata/`,
      targetsUrl: `${served.server.url}/targets/`,
      trustedRoot: trustedRoot as Uint8Array,
    });

  test('a path string, { path } and the bytes all find the update', async () => {
    const forms = [served.trustedRoot, { path: served.trustedRoot }, await readFile(served.trustedRoot)];
    for (const [i, form] of forms.entries()) {
      assert.equal((await client(form, i).checkForUpdates())?.version, '1.1.0', `form ${i}`);
    }
  });

  test('anything else: INVALID_ARGUMENT at construction, saying what to pass', () => {
    for (const [i, bad] of [undefined, 42, '', { path: 7 }, { file: 'root.json' }].entries()) {
      assert.throws(
        () => client(bad, 10 + i),
        (err: unknown) =>
          isNotsotufError(err, 'INVALID_ARGUMENT') &&
          /trustedRoot must be the root\.json/.test(err.message) &&
          /trustedRoot: 'root\.json'/.test(err.hint ?? ''),
        JSON.stringify(bad),
      );
    }
  });
});
