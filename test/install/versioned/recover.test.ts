/**
 * Recovery: the pure decisions as tables (leftover names, lock temps, state repair), then on real roots: leftovers
 * removed (a live process's lock temp kept), a missing current version falls back, a busy root is left alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/index.js';
import {
  type InstallState,
  readInstallState,
  recoverInstallRoot,
  UPDATE_LOCK_FILE,
  versionDir,
} from '../../../src/install/index.js';
import { findLeftovers, isDeadLockTemp, planStateRepair } from '../../../src/install/versioned/recover.js';
import { acquireLock } from '../../../src/util/lock-file.js';
import { buildTree, snapshot, tempDir } from '../helpers.js';
import { installVersion, makeRelease, makeRoot } from './fixtures.js';

const STATE: InstallState = {
  format: 1,
  current: '1.1.0',
  previous: '1.0.0',
  entry: 'bin/app',
  trial: { version: '1.1.0', launches: 1, since: 1 },
  failed: [],
  lastResult: null,
};

describe('findLeftovers', () => {
  test('staging dirs, state temps and lock temps; nothing else', () => {
    const out = findLeftovers(
      ['1.0.0', '.staging-abc', '.staging-removed-1f', 'staging-x', '.other'],
      [
        'install.json',
        '.install.json.a1b2.tmp',
        '.install.json.bak',
        'install.lock',
        'install.lock.a1b2c3.tmp',
        'update.lock.00ff.tmp',
        'other.lock.00ff.tmp',
        'install.lock.xyz.tmp',
        'data',
      ],
    );
    assert.deepEqual(out, {
      staging: ['.staging-abc', '.staging-removed-1f'],
      stateTemps: ['.install.json.a1b2.tmp'],
      lockTemps: ['install.lock.a1b2c3.tmp', 'update.lock.00ff.tmp'],
    });
  });
});

describe('isDeadLockTemp', () => {
  const alive = (pid: number) => pid === 42;
  const rows: { name: string; content: string; expected: boolean }[] = [
    {
      name: 'dead pid on this host',
      content: JSON.stringify({ pid: 7, host: 'me', created: 1 }),
      expected: true,
    },
    {
      name: 'live pid on this host',
      content: JSON.stringify({ pid: 42, host: 'me', created: 1 }),
      expected: false,
    },
    { name: 'another host', content: JSON.stringify({ pid: 7, host: 'other', created: 1 }), expected: false },
    { name: 'empty (killed before writing)', content: '', expected: true },
    { name: 'not lock info', content: '[1]', expected: true },
  ];
  for (const { name, content, expected } of rows) {
    test(name, () => assert.equal(isDeadLockTemp(content, 'me', alive), expected));
  }
});

describe('planStateRepair', () => {
  const rows: { name: string; input: [InstallState | undefined, string[]]; expected: unknown }[] = [
    { name: 'no state', input: [undefined, []], expected: { kind: 'intact' } },
    { name: 'both present', input: [STATE, ['1.0.0', '1.1.0']], expected: { kind: 'intact' } },
    {
      name: 'previous missing: forgotten',
      input: [STATE, ['1.1.0']],
      expected: { kind: 'repaired', state: { ...STATE, previous: null } },
    },
    {
      name: 'current missing: fall back to previous',
      input: [STATE, ['1.0.0']],
      expected: {
        kind: 'repaired',
        state: {
          ...STATE,
          current: '1.0.0',
          previous: null,
          trial: null,
          lastResult: { kind: 'rolled-back', from: '1.1.0', to: '1.0.0', reason: 'version-missing', at: 9 },
        },
      },
    },
    {
      name: 'both missing',
      input: [STATE, ['0.9.0']],
      expected: { kind: 'unrecoverable', missing: '1.1.0' },
    },
    {
      name: 'current missing, no previous',
      input: [{ ...STATE, previous: null }, []],
      expected: { kind: 'unrecoverable', missing: '1.1.0' },
    },
  ];
  for (const { name, input, expected } of rows) {
    test(name, () => assert.deepEqual(planStateRepair(...input, 9), expected));
  }
});

describe('recoverInstallRoot', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir('notsotuf-recover-'));
  });
  after(() => cleanup());

  async function installed() {
    const dir = join(base, `case-${++n}`);
    const root = await makeRoot(dir);
    for (const v of ['1.0.0', '1.1.0']) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    return root;
  }

  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', '0']);
    return child.pid as number;
  }

  test('removes staging dirs, state temps and dead lock temps; keeps a live lock temp and the state', async () => {
    const root = await installed();
    const stateBefore = await readFile(join(root, 'install.json'));
    const versionsBefore = await snapshot(join(root, 'versions'));
    await buildTree(join(root, 'versions', '.staging-abc123'), {
      'bin/app': 'partial',
      ro: { dir: true, mode: 0o555 },
      'ro/f': 'x',
    });
    await writeFile(join(root, '.install.json.0a1b2c3d4e5f.tmp'), '{"format":1');
    const info = (pid: number) => JSON.stringify({ pid, host: hostname(), created: Date.now() });
    await writeFile(join(root, 'install.lock.aaaaaaaaaaaa.tmp'), info(deadPid()));
    await writeFile(join(root, 'update.lock.bbbbbbbbbbbb.tmp'), '');
    await writeFile(join(root, 'install.lock.cccccccccccc.tmp'), info(process.pid));

    const report = await recoverInstallRoot(root);
    assert.deepEqual(report, {
      kind: 'recovered',
      removed: [
        join(root, 'versions', '.staging-abc123'),
        join(root, '.install.json.0a1b2c3d4e5f.tmp'),
        join(root, 'install.lock.aaaaaaaaaaaa.tmp'),
        join(root, 'update.lock.bbbbbbbbbbbb.tmp'),
      ],
      fellBack: null,
      droppedPrevious: null,
    });
    assert.deepEqual((await readdir(root)).sort(), [
      'data',
      'health',
      'install.json',
      'install.lock.cccccccccccc.tmp',
      'versions',
    ]);
    assert.deepEqual(await readFile(join(root, 'install.json')), stateBefore);
    assert.deepEqual(await snapshot(join(root, 'versions')), versionsBefore);
  });

  test('a missing current version falls back to the previous one', async () => {
    const root = await installed();
    await rm(versionDir(root, '1.1.0'), { recursive: true });
    const report = await recoverInstallRoot(root, { now: 77 });
    assert.equal(report.kind, 'recovered');
    assert.deepEqual(report.kind === 'recovered' && report.fellBack, { from: '1.1.0', to: '1.0.0' });
    const state = await readInstallState(root);
    assert.deepEqual([state?.current, state?.previous, state?.trial], ['1.0.0', null, null]);
    assert.deepEqual(state?.lastResult, {
      kind: 'rolled-back',
      from: '1.1.0',
      to: '1.0.0',
      reason: 'version-missing',
      at: 77,
    });
  });

  test('a missing previous version is forgotten', async () => {
    const root = await installed();
    await rm(versionDir(root, '1.0.0'), { recursive: true });
    const report = await recoverInstallRoot(root);
    assert.deepEqual(report.kind === 'recovered' && report.droppedPrevious, '1.0.0');
    assert.equal((await readInstallState(root))?.previous, null);
  });

  test('no complete version left: INSTALL_FAILED telling to reinstall', async () => {
    const root = await installed();
    await rm(join(root, 'versions'), { recursive: true });
    await mkdir(join(root, 'versions'));
    await assert.rejects(
      recoverInstallRoot(root),
      (err) => isNotsotufError(err, 'INSTALL_FAILED') && /reinstall/.test(err.hint ?? ''),
    );
  });

  test('busy while another live process holds update.lock: nothing touched', async () => {
    const root = await installed();
    await mkdir(join(root, 'versions', '.staging-live'));
    const release = await acquireLock(join(root, UPDATE_LOCK_FILE), 'test', undefined, 'INSTALL_LOCKED');
    try {
      assert.deepEqual(await recoverInstallRoot(root), { kind: 'busy' });
      assert.ok((await readdir(join(root, 'versions'))).includes('.staging-live'));
    } finally {
      await release();
    }
  });
});
