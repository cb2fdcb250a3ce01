/** Health markers and trial confirmation on real roots. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/index.js';
import {
  confirmTrial,
  healthMarker,
  isHealthy,
  markHealthy,
  readInstallState,
} from '../../../src/install/index.js';
import { tempDir } from '../helpers.js';
import { installVersion, makeRelease, makeRoot } from './fixtures.js';

describe('health markers', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir('notsotuf-health-'));
  });
  after(() => cleanup());

  async function installed(versions: string[]) {
    const dir = join(base, `case-${++n}`);
    const root = await makeRoot(dir);
    for (const v of versions) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    return { dir, root };
  }

  test('markHealthy is idempotent: the first marker stays as it was', async () => {
    const { root } = await installed(['1.0.0']);
    assert.equal(await isHealthy(root, '1.0.0'), false);
    await markHealthy(root, '1.0.0', 111);
    const first = await readFile(healthMarker(root, '1.0.0'));
    await markHealthy(root, '1.0.0', 222);
    assert.deepEqual(await readFile(healthMarker(root, '1.0.0')), first);
    assert.equal(await isHealthy(root, '1.0.0'), true);
    assert.deepEqual(await readdir(join(root, 'health')), ['1.0.0.ok'], 'no temp file');
  });

  test('markHealthy creates health/ when it is missing, and refuses a non-version', async () => {
    const { root } = await installed([]);
    await markHealthy(root, '2.0.0');
    assert.equal(await isHealthy(root, '2.0.0'), true);
    for (const bad of ['../x', '', '.staging-1']) {
      await assert.rejects(markHealthy(root, bad), (err) => isNotsotufError(err, 'INVALID_ARGUMENT'));
    }
  });

  test('confirmTrial: not healthy yet, then confirmed, then nothing on trial', async () => {
    const { root } = await installed(['1.0.0', '1.1.0']);
    assert.deepEqual(await confirmTrial(root), { kind: 'not-healthy', version: '1.1.0' });
    await markHealthy(root, '1.1.0');
    assert.deepEqual(await confirmTrial(root, { now: 500 }), { kind: 'confirmed', version: '1.1.0' });
    const state = await readInstallState(root);
    assert.equal(state?.trial, null);
    assert.deepEqual(state?.lastResult, { kind: 'confirmed', version: '1.1.0', at: 500 });
    assert.deepEqual([state?.current, state?.previous], ['1.1.0', '1.0.0']);
    assert.deepEqual(await confirmTrial(root), { kind: 'not-on-trial' });
  });

  test('confirmTrial without install.json: not on trial', async () => {
    const { root } = await installed([]);
    assert.deepEqual(await confirmTrial(root), { kind: 'not-on-trial' });
  });

  test('installing a version again removes its old marker, so the new trial must confirm afresh', async () => {
    const { dir, root } = await installed(['1.0.0']);
    await markHealthy(root, '1.0.0');
    await installVersion(root, join(dir, 'releases', '1.0.0'), '1.0.0'); // identical: the directory is reused
    assert.equal(await isHealthy(root, '1.0.0'), false);
    assert.deepEqual(await confirmTrial(root), { kind: 'not-healthy', version: '1.0.0' });
  });
});
