/** The auto-updater's state file: round trip, a first run, and damaged files that are ignored, never fatal. */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AUTO_UPDATE_STATE_FORMAT,
  parseAutoUpdateState,
  readAutoUpdateState,
  writeAutoUpdateState,
} from '../../../src/client/auto/state-file.js';
import { makeTempDir } from '../../helpers/repo-fixtures.js';

describe('auto-update state file', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir('notsotuf-auto-state-'));
  });
  after(() => cleanup());

  test('round trip, written atomically (no temp file left), directory created', async () => {
    const path = join(dir, 'new', 'auto-update.json');
    const state = {
      lastCheckAt: 1_700_000_000_000,
      lastResult: 'error',
      failures: 3,
      lastError: { code: 'DOWNLOAD_FAILED', class: 'transient' },
    } as const;
    await writeAutoUpdateState(path, state);
    assert.deepEqual(await readAutoUpdateState(path), { state });
    assert.deepEqual(await readdir(join(dir, 'new')), ['auto-update.json']);
  });

  test('a missing file is a first run, without a problem', async () => {
    assert.deepEqual(await readAutoUpdateState(join(dir, 'absent.json')), { state: { failures: 0 } });
  });

  test('a file that is a directory is reported, not thrown', async () => {
    const got = await readAutoUpdateState(dir);
    assert.deepEqual(got.state, { failures: 0 });
    assert.match(got.problem ?? '', /Could not read/);
  });

  const damaged: [string, string][] = [
    ['truncated JSON', '{"format":"notsotuf-auto-update/1","failures":'],
    ['empty', ''],
    ['another format', JSON.stringify({ format: 'other/1', failures: 0 })],
    ['failures negative', JSON.stringify({ format: AUTO_UPDATE_STATE_FORMAT, failures: -1 })],
    [
      'lastCheckAt a string',
      JSON.stringify({ format: AUTO_UPDATE_STATE_FORMAT, failures: 0, lastCheckAt: 'x' }),
    ],
    [
      'unknown result',
      JSON.stringify({ format: AUTO_UPDATE_STATE_FORMAT, failures: 0, lastResult: 'maybe' }),
    ],
    [
      'unknown failure class',
      JSON.stringify({
        format: AUTO_UPDATE_STATE_FORMAT,
        failures: 1,
        lastError: { code: 'X', class: 'odd' },
      }),
    ],
    ['an array', '[]'],
  ];
  for (const [name, text] of damaged) {
    test(`damaged (${name}): ignored with a problem to warn about`, async () => {
      const path = join(dir, `damaged-${name.replace(/\W+/g, '-')}.json`);
      await writeFile(path, text);
      const got = await readAutoUpdateState(path);
      assert.deepEqual(got.state, { failures: 0 });
      assert.ok(got.problem?.includes(path), got.problem);
    });
  }

  test('parse keeps only known fields', () => {
    assert.deepEqual(
      parseAutoUpdateState({ format: AUTO_UPDATE_STATE_FORMAT, failures: 0, lastCheckAt: 5, extra: true }),
      { failures: 0, lastCheckAt: 5 },
    );
  });
});
