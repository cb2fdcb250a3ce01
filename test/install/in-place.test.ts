/**
 * The in-place strategy on real files (POSIX path): installs over existing trees, replaces a running executable,
 * and leaves the install dir byte for byte as it was when anything fails part-way (compared as full snapshots:
 * paths, types, modes, contents, link texts). No backup or temp file may be left behind either way.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError, type NotsotufError } from '../../src/core/errors.js';
import {
  type InPlaceOptions,
  type InstallContext,
  type InstallStep,
  inPlaceStrategy,
} from '../../src/install/index.js';
import { buildTree, leftovers, makeUnwritable, snapshot, type TreeSpec, tempDir } from './helpers.js';

const OLD: TreeSpec = {
  bin: { dir: true },
  'bin/app': { file: 'app v1', mode: 0o755 },
  'README.txt': 'readme v1',
  'same.txt': 'unchanged',
  lib: { dir: true },
  'lib/old.so': 'old library',
  'lib/debug.log': 'debug log',
  link: { link: 'bin/app' },
  'changed-link': { link: 'README.txt' },
  data: { dir: true },
  'data/user.db': 'user data',
  'config.ini': 'user config',
};

const NEW: TreeSpec = {
  bin: { dir: true },
  'bin/app': { file: 'app v2', mode: 0o755 },
  'bin/tool.sh': { file: '#!/bin/sh\n', mode: 0o755 },
  'README.txt': 'readme v2',
  'same.txt': 'unchanged',
  lib: { dir: true },
  'lib/new.so': 'new library',
  'lib/nested': { dir: true, mode: 0o750 },
  'lib/nested/deep': { dir: true },
  'lib/nested/deep/secret.txt': { file: 'secret', mode: 0o600 },
  link: { link: 'bin/app' },
  'changed-link': { link: 'same.txt' },
  'read-only': { dir: true, mode: 0o555 },
  'read-only/file': { file: 'in a read-only dir', mode: 0o444 },
};

describe('inPlaceStrategy (POSIX)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
  });
  after(() => cleanup());

  async function setup(installed: TreeSpec, source: TreeSpec) {
    const base = join(root, `case-${++n}`);
    const installDir = join(base, 'install');
    const sourceDir = join(base, 'source');
    await buildTree(installDir, installed);
    await buildTree(sourceDir, source);
    return { installDir, sourceDir, before: await snapshot(installDir), source: await snapshot(sourceDir) };
  }

  async function install(
    dirs: { installDir: string; sourceDir: string },
    options: InPlaceOptions = {},
    context: Partial<InstallContext> = {},
  ) {
    const steps: InstallStep[] = [];
    const warnings: string[] = [];
    const outcome = await inPlaceStrategy({ platform: 'linux', ...options }).install({
      ...dirs,
      version: '2.0.0',
      onWarning: (message) => warnings.push(message),
      ...context,
      onStep: (step) => {
        steps.push(step);
        context.onStep?.(step);
      },
    });
    return { outcome, steps, warnings };
  }

  test('installs over an existing tree: changed, new and unchanged files, modes, symlinks, nested dirs', async () => {
    const t = await setup(OLD, NEW);
    const { outcome, steps, warnings } = await install(t);
    assert.deepEqual(outcome, { kind: 'installed' });
    assert.deepEqual(
      steps.map((s) => `${s.index}/${s.total}`),
      ['1/5', '2/5', '3/5', '4/5', '5/5'],
    );
    assert.deepEqual(warnings, []);
    const kept = ['lib/old.so', 'lib/debug.log', 'data', 'data/user.db', 'config.ini'];
    const expected = { ...t.source, ...Object.fromEntries(kept.map((p) => [p, t.before[p] as string])) };
    assert.deepEqual(await snapshot(t.installDir), expected);
    assert.match(expected['bin/app'] as string, /^file 755 /);
    assert.match(expected['lib/nested/deep/secret.txt'] as string, /^file 600 /);
    assert.equal(expected['lib/nested'], 'dir 750');
    assert.equal(expected['read-only'], 'dir 555');
    assert.equal(expected['changed-link'], 'link same.txt');
    assert.equal(await readFile(join(t.installDir, 'bin/app'), 'utf8'), 'app v2');
  });

  test('purge removes what the release lacks; excludes protect a file, a directory and a glob', async () => {
    const t = await setup(OLD, NEW);
    await install(t, { purge: true, exclude: ['config.ini', 'data/', '*.log'] });
    const kept = ['lib/debug.log', 'data', 'data/user.db', 'config.ini'];
    assert.deepEqual(await snapshot(t.installDir), {
      ...t.source,
      ...Object.fromEntries(kept.map((p) => [p, t.before[p] as string])),
    });
  });

  test('purge without excludes leaves exactly the release', async () => {
    const t = await setup(OLD, NEW);
    await install(t, { purge: true });
    assert.deepEqual(await snapshot(t.installDir), t.source);
  });

  test('type changes both ways: file ↔ dir, dir ↔ symlink', async () => {
    const t = await setup(
      { a: 'a file', b: { dir: true }, 'b/x': 'in b', c: { link: 'b' }, d: { dir: true }, 'd/y': 'in d' },
      {
        a: { dir: true },
        'a/inside': 'now a dir',
        b: 'now a file',
        c: { dir: true },
        'c/z': 'z',
        d: { link: 'a' },
      },
    );
    await install(t);
    assert.deepEqual(await snapshot(t.installDir), t.source);
    // The link c pointed at b: had it been followed, b/z would exist (and b could not have become a file).
    assert.equal(await readFile(join(t.installDir, 'b'), 'utf8'), 'now a file');
  });

  test('a running executable is replaced (rename, not write: no ETXTBSY)', async (t) => {
    const dirs = await setup(
      { bin: { dir: true } },
      { bin: { dir: true }, 'bin/app': { file: 'new app', mode: 0o755 } },
    );
    await copyFile('/bin/sleep', join(dirs.installDir, 'bin/app'));
    const child: ChildProcess = spawn(join(dirs.installDir, 'bin/app'), ['30'], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    const { outcome } = await install(dirs);
    assert.deepEqual(outcome, { kind: 'installed' });
    assert.equal(await readFile(join(dirs.installDir, 'bin/app'), 'utf8'), 'new app');
    assert.equal(child.exitCode, null, 'the old program keeps running from its (now unlinked) file');
    assert.doesNotThrow(() => process.kill(child.pid as number, 0));
    assert.deepEqual(await leftovers(dirs.installDir), []);
  });

  /** Installed and release trees where a failure part-way has much to undo: type changes, replacements, purge. */
  const FAILING_OLD: TreeSpec = {
    'a.txt': 'old a',
    'b.txt': 'old b',
    t: 'was a file',
    m: { dir: true },
    'm/x': 'old x',
    'purge-me': 'extra',
    zz: { dir: true },
    'zz/f.txt': 'old f',
  };
  const FAILING_NEW: TreeSpec = {
    'a.txt': 'new a',
    'b.txt': 'new b',
    t: { dir: true },
    't/in': 'now a dir',
    m: { dir: true },
    'm/x': 'new x',
    new: { dir: true, mode: 0o555 },
    'new/n.txt': 'new n',
    lnk: { link: 'a.txt' },
    zz: { dir: true },
    'zz/f.txt': 'new f',
    'zz/g.txt': 'new g',
  };

  async function expectRestored(
    dirs: { installDir: string; before: Record<string, string> },
    promise: Promise<unknown>,
    code: 'INSTALL_FAILED' | 'ABORTED',
  ): Promise<NotsotufError> {
    const err = await promise.then(
      () => assert.fail('the install should have failed'),
      (e: unknown) => e,
    );
    assert.ok(isNotsotufError(err, code), `expected ${code}, got ${String(err)}`);
    assert.ok(err.hint, 'the error says what to do');
    assert.deepEqual(
      await snapshot(dirs.installDir),
      dirs.before,
      'the install dir is byte for byte as before',
    );
    assert.deepEqual(await leftovers(dirs.installDir), []);
    return err;
  }

  test('a rename into a read-only directory fails part-way: everything is restored', async (t) => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    const undo = makeUnwritable(join(dirs.installDir, 'zz'));
    if (typeof undo === 'string') {
      t.skip(undo);
      return;
    }
    const steps: number[] = [];
    const settled = await install(dirs, { purge: true }, { onStep: (s) => steps.push(s.index) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    undo(); // before comparing: chmod changes the directory's mode
    const err = await expectRestored(dirs, Promise.reject(settled), 'INSTALL_FAILED');
    assert.deepEqual(steps, [1, 2, 3], 'it failed while copying, after earlier files were already in place');
    assert.ok(err.cause, 'the original error is kept');
    assert.match(err.path ?? '', /zz/);
    assert.match(err.hint ?? '', /cannot be changed by this user/);
  });

  for (const abortAt of [2, 3, 4]) {
    test(`an abort announced with step ${abortAt} rolls everything back (ABORTED)`, async () => {
      const dirs = await setup(FAILING_OLD, FAILING_NEW);
      const controller = new AbortController();
      const onStep = (s: InstallStep) => {
        if (s.index === abortAt) controller.abort();
      };
      await expectRestored(
        dirs,
        install(dirs, { purge: true }, { signal: controller.signal, onStep }),
        'ABORTED',
      );
    });
  }

  test('an abort after the point of no return is ignored: the install completes', async () => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    const controller = new AbortController();
    const { outcome } = await install(
      dirs,
      { purge: true },
      { signal: controller.signal, onStep: (s) => s.index === 5 && controller.abort() },
    );
    assert.deepEqual(outcome, { kind: 'installed' });
    assert.deepEqual(await snapshot(dirs.installDir), dirs.source);
  });

  test('a release file that disappears midway: INSTALL_FAILED, everything restored', async () => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    const onStep = (s: InstallStep) => {
      if (s.index === 3) return rm(join(dirs.sourceDir, 'zz/g.txt'));
    };
    const err = await expectRestored(dirs, install(dirs, { purge: true }, { onStep }), 'INSTALL_FAILED');
    assert.match(err.hint ?? '', /release changed/);
  });

  test('a throwing onStep callback before the point of no return fails and restores', async () => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    const onStep = (s: InstallStep) => {
      if (s.index === 4) throw new Error('callback bug');
    };
    await expectRestored(dirs, install(dirs, { purge: true }, { onStep }), 'INSTALL_FAILED');
  });

  test('a missing install dir is INSTALL_FAILED with a hint; nothing is created', async () => {
    const dirs = await setup({}, NEW);
    const installDir = join(dirs.installDir, 'missing');
    const err = await install({ installDir, sourceDir: dirs.sourceDir }).catch((e: unknown) => e);
    assert.ok(isNotsotufError(err, 'INSTALL_FAILED'));
    assert.match(err.hint ?? '', /install directory must exist/);
    assert.deepEqual(await readdir(dirs.installDir), []);
  });

  test('a missing release dir is INSTALL_FAILED; the install dir is untouched', async () => {
    const dirs = await setup(OLD, {});
    const sourceDir = join(dirs.sourceDir, 'missing');
    const err = await install({ installDir: dirs.installDir, sourceDir }).catch((e: unknown) => e);
    assert.ok(isNotsotufError(err, 'INSTALL_FAILED'));
    assert.deepEqual(await snapshot(dirs.installDir), dirs.before);
  });

  test('a backup that cannot be removed after the point of no return only warns', async (t) => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    let undo: (() => void) | string = 'step 5 was never announced';
    const onStep = (s: InstallStep) => {
      if (s.index !== 5) return;
      const backup = readdirSync(dirs.installDir).find((name) => name.startsWith('.notsotuf-backup-'));
      undo = makeUnwritable(join(dirs.installDir, backup as string));
    };
    const { outcome, warnings } = await install(dirs, { purge: true }, { onStep });
    const reason = typeof undo === 'string' ? undo : undefined;
    if (typeof undo === 'function') (undo as () => void)();
    if (reason !== undefined) {
      t.skip(reason);
      return;
    }
    assert.deepEqual(outcome, { kind: 'installed' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /Could not remove the backup directory/);
    // Not into the backup: rm may still be deleting in it (it rejects at the first failure, others go on).
    const after = await snapshot(dirs.installDir, (name) => name.startsWith('.notsotuf-backup-'));
    assert.deepEqual(after, dirs.source, 'the new release is fully installed');
  });

  test('the backup lives inside the install dir, so every backup is a rename on one file system', async () => {
    const dirs = await setup(FAILING_OLD, FAILING_NEW);
    let names: string[] = [];
    const onStep = (s: InstallStep) => {
      if (s.index === 3) names = readdirSync(dirs.installDir);
    };
    await install(dirs, {}, { onStep });
    assert.ok(names.some((name) => name.startsWith('.notsotuf-backup-')));
    assert.deepEqual(await leftovers(dirs.installDir), []);
  });

  test('an invalid exclude pattern is refused when the strategy is made', () => {
    assert.throws(
      () => inPlaceStrategy({ exclude: ['../outside'] }),
      (err: unknown) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
  });
});
