/**
 * install.json: the type-guarded reader (table of damaged files → INSTALL_FAILED), the atomic writer (no temp
 * file left, unknown fields kept) and the locked read-modify-write; plus the layout's path validators.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/index.js';
import {
  type InstallState,
  isEntryPath,
  isVersionDirName,
  parseInstallState,
  readInstallState,
  STATE_LOCK_FILE,
  updateInstallState,
  writeInstallState,
} from '../../../src/install/index.js';
import { acquireLock } from '../../../src/util/lock-file.js';
import { tempDir } from '../helpers.js';

const VALID: InstallState = {
  format: 1,
  current: '1.1.0',
  previous: '1.0.0',
  entry: 'bin/app',
  trial: { version: '1.1.0', launches: 1, since: 10 },
  failed: [{ version: '0.9.0', reason: 'crashed', detail: 'SIGSEGV', at: 5 }],
  lastResult: { kind: 'installed', version: '1.1.0', previous: '1.0.0', at: 10 },
};

describe('parseInstallState', () => {
  test('accepts a valid state and keeps unknown fields', () => {
    const text = JSON.stringify({ ...VALID, futureField: [1, 2] });
    assert.deepEqual(parseInstallState(text), { ...VALID, futureField: [1, 2] });
  });

  test('accepts every lastResult kind', () => {
    for (const lastResult of [
      null,
      { kind: 'confirmed', version: '1.1.0', at: 1 },
      { kind: 'rolled-back', from: '1.1.0', to: '1.0.0', reason: 'too-many-launches', at: 1 },
      { kind: 'rolled-back', from: '1.1.0', to: '1.0.0', reason: 'version-missing', at: 1 },
    ]) {
      assert.deepEqual(parseInstallState(JSON.stringify({ ...VALID, lastResult })).lastResult, lastResult);
    }
  });

  const rows: { name: string; input: string; field?: string; hint: RegExp }[] = [
    { name: 'not JSON', input: '{"format": 1,', hint: /Reinstall the app/ },
    { name: 'an array', input: '[]', hint: /Reinstall the app/ },
    { name: 'a newer format', input: JSON.stringify({ ...VALID, format: 2 }), hint: /newer notsotuf/ },
    { name: 'no format', input: JSON.stringify({ ...VALID, format: undefined }), hint: /Reinstall/ },
    {
      name: 'current with ..',
      input: JSON.stringify({ ...VALID, current: '..' }),
      field: 'current',
      hint: /Reinstall/,
    },
    {
      name: 'current with a slash',
      input: JSON.stringify({ ...VALID, current: '1.0/x' }),
      field: 'current',
      hint: /./,
    },
    {
      name: 'previous not a version',
      input: JSON.stringify({ ...VALID, previous: 3 }),
      field: 'previous',
      hint: /./,
    },
    {
      name: 'absolute entry',
      input: JSON.stringify({ ...VALID, entry: '/bin/sh' }),
      field: 'entry',
      hint: /./,
    },
    { name: 'entry escaping', input: JSON.stringify({ ...VALID, entry: '../x' }), field: 'entry', hint: /./ },
    {
      name: 'negative launches',
      input: JSON.stringify({ ...VALID, trial: { version: '1.1.0', launches: -1, since: 0 } }),
      field: 'trial',
      hint: /./,
    },
    {
      name: 'unknown failure reason',
      input: JSON.stringify({ ...VALID, failed: [{ version: '1.0.0', reason: 'bored', at: 0 }] }),
      field: 'failed',
      hint: /./,
    },
    {
      name: 'unknown lastResult kind',
      input: JSON.stringify({ ...VALID, lastResult: { kind: 'exploded', at: 0 } }),
      field: 'lastResult',
      hint: /./,
    },
  ];
  for (const { name, input, field, hint } of rows) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => parseInstallState(input, '/x/install.json'),
        (err) => {
          assert.ok(isNotsotufError(err, 'INSTALL_FAILED'), String(err));
          assert.equal(err.path, '/x/install.json');
          assert.match(err.hint ?? '', hint);
          if (field !== undefined) assert.equal(err.details['field'], field);
          return true;
        },
      );
    });
  }
});

describe('layout validators', () => {
  const versions: [string, boolean][] = [
    ['1.0.0', true],
    ['2.0.0rc1', true],
    ['1!2.0+local.7', true],
    ['v1.2.3', true],
    ['', false],
    ['.', false],
    ['..', false],
    ['.staging-x', false],
    ['1.0/..', false],
    ['1.0\\x', false],
    ['not a version', false],
  ];
  for (const [input, expected] of versions) {
    test(`isVersionDirName(${JSON.stringify(input)}) = ${expected}`, () =>
      assert.equal(isVersionDirName(input), expected));
  }
  const entries: [string, boolean][] = [
    ['app.js', true],
    ['bin/my-app', true],
    ['', false],
    ['/bin/sh', false],
    ['C:/x.exe', false],
    ['bin/../../x', false],
    ['./app', false],
    ['bin//app', false],
    ['bin\\app', false],
  ];
  for (const [input, expected] of entries) {
    test(`isEntryPath(${JSON.stringify(input)}) = ${expected}`, () =>
      assert.equal(isEntryPath(input), expected));
  }
});

describe('reading and writing install.json', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir('notsotuf-state-'));
  });
  after(() => cleanup());

  test('absent → undefined; written → read back; no temp file left', async () => {
    assert.equal(await readInstallState(dir), undefined);
    await writeInstallState(dir, VALID);
    assert.deepEqual(await readInstallState(dir), VALID);
    await writeInstallState(dir, { ...VALID, current: '1.0.0', previous: null });
    assert.equal((await readInstallState(dir))?.current, '1.0.0');
    assert.deepEqual(await readdir(dir), ['install.json']);
  });

  test('a damaged file is INSTALL_FAILED with a hint', async () => {
    await writeFile(join(dir, 'install.json'), '{"format":1,"current":"../../etc"}');
    await assert.rejects(
      readInstallState(dir),
      (err) => isNotsotufError(err, 'INSTALL_FAILED') && !!err.hint,
    );
  });

  test('writing into a missing root is IO_ERROR and leaves nothing', async () => {
    await assert.rejects(writeInstallState(join(dir, 'missing'), VALID), (err) =>
      isNotsotufError(err, 'IO_ERROR'),
    );
  });

  test('updateInstallState: applies fn under the lock, skips the write for the same state, keeps unknown fields', async () => {
    await writeFile(join(dir, 'install.json'), JSON.stringify({ ...VALID, extra: 'kept' }));
    const next = await updateInstallState(dir, (s) => s && { ...s, previous: null });
    assert.equal(next?.previous, null);
    const text = await readFile(join(dir, 'install.json'), 'utf8');
    assert.match(text, /"extra": "kept"/);
    const same = await updateInstallState(dir, (s) => s);
    assert.equal(await readFile(join(dir, 'install.json'), 'utf8'), text);
    assert.equal(same?.previous, null);
    assert.deepEqual((await readdir(dir)).sort(), ['install.json']); // the lock is released
  });

  test('updateInstallState waits for the lock held briefly by another writer', async () => {
    await writeInstallState(dir, VALID);
    const release = await acquireLock(join(dir, STATE_LOCK_FILE), 'test', undefined, 'INSTALL_LOCKED');
    const order: string[] = [];
    const update = updateInstallState(dir, (s) => {
      order.push('update');
      return s && { ...s, previous: null };
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push('release');
    await release();
    await update;
    assert.deepEqual(order, ['release', 'update']);
  });
});
