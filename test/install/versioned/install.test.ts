/**
 * The versioned install strategy on real files: the install sequence (kept and removed versions, modes, symlinks,
 * `data/` untouched), and failures before the switch, which must leave the whole root byte for byte as it was
 * (full snapshots: paths, types, modes, contents; install.json included) with no staging leftovers.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/index.js';
import {
  afterTrialFailure,
  type InstallContext,
  markHealthy,
  readInstallState,
  UPDATE_LOCK_FILE,
  updateInstallState,
  type VersionedOptions,
  versionDir,
  versionedStrategy,
} from '../../../src/install/index.js';
import { acquireLock } from '../../../src/util/lock-file.js';
import { buildTree, snapshot, tempDir } from '../helpers.js';
import { installVersion, makeRelease, makeRoot, releaseSpec } from './fixtures.js';

let base: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir: base, cleanup } = await tempDir('notsotuf-versioned-'));
});
after(() => cleanup());

async function fresh() {
  const dir = join(base, `case-${++n}`);
  return { dir, root: await makeRoot(dir) };
}

async function versionsIn(root: string): Promise<string[]> {
  return (await readdir(join(root, 'versions'))).sort();
}

describe('versionedStrategy: the install sequence', () => {
  test('fresh root, then two updates: kept versions, trial, health markers, data/ untouched', async () => {
    const { dir, root } = await fresh();
    const releases = await Promise.all(['1.0.0', '1.1.0', '1.2.0'].map((v) => makeRelease(dir, v)));
    const [r1, r2, r3] = releases as [(typeof releases)[0], (typeof releases)[0], (typeof releases)[0]];

    const first = await installVersion(root, r1.dir, '1.0.0');
    assert.deepEqual(
      first.steps.map((s) => `${s.index}/${s.total}`),
      ['1/5', '2/5', '3/5', '4/5', '5/5'],
    );
    assert.deepEqual(first.warnings, []);
    assert.deepEqual(await versionsIn(root), ['1.0.0']);
    assert.deepEqual(await snapshot(versionDir(root, '1.0.0')), r1.tree);
    const s1 = await readInstallState(root);
    assert.equal(s1?.current, '1.0.0');
    assert.equal(s1?.previous, null);
    assert.equal(s1?.entry, 'bin/app');
    assert.equal(s1?.trial?.version, '1.0.0');
    assert.equal(s1?.trial?.launches, 0);
    assert.deepEqual((await readdir(root)).sort(), ['data', 'health', 'install.json', 'versions']);
    await markHealthy(root, '1.0.0');

    await installVersion(root, r2.dir, '1.1.0');
    const s2 = await readInstallState(root);
    assert.deepEqual([s2?.current, s2?.previous, s2?.trial?.version], ['1.1.0', '1.0.0', '1.1.0']);
    assert.deepEqual(s2?.lastResult, {
      kind: 'installed',
      version: '1.1.0',
      previous: '1.0.0',
      at: s2?.trial?.since,
    });
    assert.deepEqual(await versionsIn(root), ['1.0.0', '1.1.0']);
    assert.deepEqual(await snapshot(versionDir(root, '1.0.0')), r1.tree, 'the previous version is untouched');
    assert.deepEqual(await snapshot(versionDir(root, '1.1.0')), r2.tree);

    await installVersion(root, r3.dir, '1.2.0');
    assert.deepEqual(await versionsIn(root), ['1.1.0', '1.2.0']);
    assert.deepEqual(await readdir(join(root, 'health')), [], 'the marker of the removed 1.0.0 went too');
    assert.deepEqual(await snapshot(versionDir(root, '1.2.0')), r3.tree);
    assert.equal(await readFile(join(root, 'data', 'user.db'), 'utf8'), 'user data');
  });

  test('data/ survives a rollback and the install after it; a reinstall of the failed version starts a trial', async () => {
    const { dir, root } = await fresh();
    await writeFile(join(root, 'data', 'settings.json'), '{"theme":"dark"}');
    const dataBefore = await snapshot(join(root, 'data'));
    for (const v of ['1.0.0', '1.1.0']) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    await updateInstallState(root, (s) => s && afterTrialFailure(s, 'crashed', 'SIGSEGV', Date.now()));
    const rolledBack = await readInstallState(root);
    assert.deepEqual([rolledBack?.current, rolledBack?.previous], ['1.0.0', null]);
    assert.deepEqual(await snapshot(join(root, 'data')), dataBefore);

    await installVersion(root, (await makeRelease(dir, '1.2.0')).dir, '1.2.0');
    assert.deepEqual(await versionsIn(root), ['1.0.0', '1.2.0'], 'the failed 1.1.0 is removed');
    const s = await readInstallState(root);
    assert.deepEqual(
      s?.failed.map((f) => f.version),
      ['1.1.0'],
    );
    assert.deepEqual(await snapshot(join(root, 'data')), dataBefore);
  });

  test('keepPrevious false: the old version goes at once', async () => {
    const { dir, root } = await fresh();
    for (const v of ['1.0.0', '2.0.0']) {
      await installVersion(root, (await makeRelease(dir, v)).dir, v, { keepPrevious: false });
    }
    assert.deepEqual(await versionsIn(root), ['2.0.0']);
    assert.equal((await readInstallState(root))?.previous, null);
  });

  test('a .js entry needs no executable bit; an entry may be a symlink inside the release', async () => {
    const { dir, root } = await fresh();
    const js = await makeRelease(dir, '1.0.0', { 'app.js': 'console.log(1)' });
    await installVersion(root, js.dir, '1.0.0', { entry: 'app.js' });
    const linked = await makeRelease(dir, '1.1.0', { ...releaseSpec('1.1.0'), start: { link: 'bin/app' } });
    await installVersion(root, linked.dir, '1.1.0', { entry: 'start' });
    assert.equal((await readInstallState(root))?.entry, 'start');
  });

  test('an existing identical directory of the version is reused; a differing unused one is replaced', async () => {
    const { dir, root } = await fresh();
    await installVersion(root, (await makeRelease(dir, '1.0.0')).dir, '1.0.0');
    const r2 = await makeRelease(dir, '1.1.0');
    // As left by an install killed after its rename, before its switch.
    await cp(r2.dir, versionDir(root, '1.1.0'), { recursive: true, verbatimSymlinks: true });
    await installVersion(root, r2.dir, '1.1.0');
    assert.deepEqual(await snapshot(versionDir(root, '1.1.0')), r2.tree);
    const r3 = await makeRelease(dir, '1.2.0');
    await buildTree(versionDir(root, '1.2.0'), { 'garbage.txt': 'partial copy by hand' });
    await installVersion(root, r3.dir, '1.2.0');
    assert.deepEqual(await snapshot(versionDir(root, '1.2.0')), r3.tree);
    assert.deepEqual(await versionsIn(root), ['1.1.0', '1.2.0']);
  });

  test('an entry that is not a safe relative path is refused at once', () => {
    for (const entry of ['', '/bin/sh', '../app', 'bin\\app']) {
      assert.throws(
        () => versionedStrategy({ entry }),
        (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    }
  });
});

describe('versionedStrategy: failures before the switch change nothing', () => {
  /** A root with 1.0.0 and 1.1.0 installed (previous and current), and a release 1.2.0 to install. */
  async function installed() {
    const { dir, root } = await fresh();
    for (const v of ['1.0.0', '1.1.0']) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    return { dir, root, before: await snapshot(root), stateText: await readFile(join(root, 'install.json')) };
  }

  async function expectUnchanged(
    t: Awaited<ReturnType<typeof installed>>,
    run: Promise<unknown>,
    code: 'INSTALL_FAILED' | 'INSTALL_LOCKED' | 'ABORTED',
    hint: RegExp = /./,
  ) {
    await assert.rejects(run, (err) => {
      assert.ok(isNotsotufError(err, code), `expected ${code}, got ${String(err)}`);
      assert.match(err.hint ?? '', hint);
      return true;
    });
    assert.deepEqual(
      await readFile(join(t.root, 'install.json')),
      t.stateText,
      'install.json byte-identical',
    );
    assert.deepEqual(await snapshot(t.root), t.before, 'versions, health, data and locks as before');
  }

  const rows: {
    name: string;
    spec?: (v: string) => Record<string, unknown>;
    options?: Partial<VersionedOptions>;
    code: 'INSTALL_FAILED' | 'ABORTED';
    hint: RegExp;
  }[] = [
    {
      name: 'entry missing',
      options: { entry: 'bin/other' },
      code: 'INSTALL_FAILED',
      hint: /entry option/,
    },
    {
      name: 'entry not executable',
      spec: (v) => ({ ...releaseSpec(v), 'bin/app': { file: 'x', mode: 0o644 } }),
      code: 'INSTALL_FAILED',
      hint: /chmod \+x/,
    },
    { name: 'entry is a directory', options: { entry: 'lib' }, code: 'INSTALL_FAILED', hint: /entry option/ },
    {
      name: 'entry links outside the release',
      spec: (v) => ({ ...releaseSpec(v), 'bin/app': { link: '/bin/sh' } }),
      code: 'INSTALL_FAILED',
      hint: /entry option/,
    },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const t = await installed();
      const r = await makeRelease(t.dir, '1.2.0', row.spec?.('1.2.0') as never);
      await expectUnchanged(t, installVersion(t.root, r.dir, '1.2.0', row.options), row.code, row.hint);
    });
  }

  test('the source directory vanishes as the copy starts', async () => {
    const t = await installed();
    const { 'read-only': _, 'read-only/file.txt': __, ...spec } = releaseSpec('1.2.0');
    const r = await makeRelease(t.dir, '1.2.0', spec);
    // onStep runs synchronously right before step 2 (the copy) starts.
    const onStep: InstallContext['onStep'] = (s) => s.index === 2 && rmSync(r.dir, { recursive: true });
    await expectUnchanged(
      t,
      installVersion(t.root, r.dir, '1.2.0', {}, { onStep }),
      'INSTALL_FAILED',
      /download/i,
    );
  });

  for (const at of [1, 2, 3, 4]) {
    test(`abort signalled while step ${at} is announced`, async () => {
      const t = await installed();
      const r = await makeRelease(t.dir, '1.2.0');
      const controller = new AbortController();
      const onStep: InstallContext['onStep'] = (s) =>
        s.index === at && controller.abort(new Error('user quit'));
      await expectUnchanged(
        t,
        installVersion(t.root, r.dir, '1.2.0', {}, { signal: controller.signal, onStep }),
        'ABORTED',
      );
    });
  }

  test('an abort after the switch is ignored', async () => {
    const t = await installed();
    const controller = new AbortController();
    const onStep: InstallContext['onStep'] = (s) => s.index === 5 && controller.abort();
    const r = await makeRelease(t.dir, '1.2.0');
    await installVersion(t.root, r.dir, '1.2.0', {}, { signal: controller.signal, onStep });
    assert.equal((await readInstallState(t.root))?.current, '1.2.0');
  });

  for (const [role, version] of [
    ['current', '1.1.0'],
    ['previous', '1.0.0'],
  ]) {
    test(`reinstalling the ${role} version over a changed copy is refused (install.json names it)`, async () => {
      const t = await installed();
      await writeFile(join(versionDir(t.root, version as string), 'cache.pyc'), 'written by the app');
      const changed = { ...t, before: await snapshot(t.root) };
      const r = await makeRelease(t.dir, `${version}-again`, releaseSpec(version as string));
      await expectUnchanged(
        changed,
        installVersion(t.root, r.dir, version as string),
        'INSTALL_FAILED',
        /newer release/,
      );
    });
  }

  test('another live process holds update.lock: INSTALL_LOCKED, nothing changed', async () => {
    const t = await installed();
    const release = await acquireLock(join(t.root, UPDATE_LOCK_FILE), 'test', undefined, 'INSTALL_LOCKED');
    const locked = { ...t, before: await snapshot(t.root) };
    try {
      const r = await makeRelease(t.dir, '1.2.0');
      await expectUnchanged(
        locked,
        installVersion(t.root, r.dir, '1.2.0'),
        'INSTALL_LOCKED',
        /Wait for the other/,
      );
    } finally {
      await release();
    }
  });

  test('a damaged install.json stops the install before anything is copied', async () => {
    const t = await installed();
    await writeFile(join(t.root, 'install.json'), '{"format":1,"current":"../../etc"}');
    const damaged = {
      ...t,
      before: await snapshot(t.root),
      stateText: await readFile(join(t.root, 'install.json')),
    };
    const r = await makeRelease(t.dir, '1.2.0');
    await expectUnchanged(damaged, installVersion(t.root, r.dir, '1.2.0'), 'INSTALL_FAILED', /Reinstall/);
  });

  test('a missing root', async () => {
    const { dir } = await fresh();
    const r = await makeRelease(dir, '1.0.0');
    await assert.rejects(installVersion(join(dir, 'nope'), r.dir, '1.0.0'), (err) =>
      isNotsotufError(err, 'INSTALL_FAILED'),
    );
  });

  test('a source with a symlinked root works like a directory (the client may pass one)', async () => {
    const { dir, root } = await fresh();
    const r = await makeRelease(dir, '1.0.0');
    await symlink(r.dir, join(dir, 'release-link'));
    await installVersion(root, join(dir, 'release-link'), '1.0.0');
    assert.deepEqual(await snapshot(versionDir(root, '1.0.0')), r.tree);
  });
});
