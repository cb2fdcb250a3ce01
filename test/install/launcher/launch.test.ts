/**
 * launchApp with real processes: install roots built by hand, apps that confirm, crash, hang or just exit. Timing
 * only enters as policy input (a short confirmWithinMs); assertions are about what ran and what install.json says.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/errors.js';
import { launchApp } from '../../../src/install/launcher/index.js';
import { APP, buildRoot, launch, readState, T1, tempDir, trialState } from './helpers.js';

const ARGS = ['--open', 'a file.txt', "it's"];
const ARGS_SHOWN = "[--open][a file.txt][it's]";

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir('notsotuf-launch-'));
});
afterEach(() => cleanup());

describe('a version on trial', () => {
  test('confirms: it runs, the trial ends (confirmed) and its exit code is passed through', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.confirmsAndExits(5) }, trialState());
    const { result, started } = await launch(root, ARGS);
    assert.deepEqual(result, { exitCode: 5, signal: null, version: '1.1.0' });
    assert.deepEqual(
      started.map((s) => [s.version, s.trial, s.stdout]),
      [['1.1.0', true, `app 1.1.0 ${ARGS_SHOWN}\n`]],
    );
    const state = await readState(root);
    assert.equal(state.current, '1.1.0');
    assert.equal(state.trial, null);
    assert.deepEqual(state.lastResult, { kind: 'confirmed', version: '1.1.0', at: T1 });
  });

  test('confirms while running: the trial ends at once and the app runs on', async () => {
    // The app exits only once it sees the trial ended in install.json (else 99): the launcher confirmed mid-run.
    await buildRoot(
      root,
      { '1.0.0': APP.exits(0), '1.1.0': APP.confirmsAndWaitsForTrialEnd(6) },
      trialState(),
    );
    const { result } = await launch(root, []);
    assert.deepEqual(result, { exitCode: 6, signal: null, version: '1.1.0' });
    assert.equal((await readState(root)).trial, null);
  });

  test('crashes before confirming (exit 3): rolled back, 1.0.0 runs with the same args, next launch starts 1.0.0', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.exits(3) }, trialState());
    const first = await launch(root, ARGS);
    assert.deepEqual(first.result, {
      exitCode: 0,
      signal: null,
      version: '1.0.0',
      rolledBack: { from: '1.1.0', to: '1.0.0', reason: 'crashed', detail: '3' },
    });
    assert.deepEqual(
      first.started.map((s) => [s.version, s.trial, s.stdout]),
      [
        ['1.1.0', true, `app 1.1.0 ${ARGS_SHOWN}\n`],
        ['1.0.0', false, `app 1.0.0 ${ARGS_SHOWN}\n`],
      ],
    );
    assert.ok(
      first.log.some((l) => /1\.1\.0 failed before confirming.*code 3.*rolling back to 1\.0\.0/.test(l)),
    );
    const state = await readState(root);
    assert.equal(state.current, '1.0.0');
    assert.equal(state.trial, null);
    assert.deepEqual(state.failed, [{ version: '1.1.0', reason: 'crashed', detail: '3', at: T1 }]);
    assert.deepEqual(state.lastResult, {
      kind: 'rolled-back',
      from: '1.1.0',
      to: '1.0.0',
      reason: 'crashed',
      detail: '3',
      at: T1,
    });

    const second = await launch(root, ['again']);
    assert.deepEqual(second.result, { exitCode: 0, signal: null, version: '1.0.0' });
    assert.deepEqual(
      second.started.map((s) => [s.version, s.trial, s.stdout]),
      [['1.0.0', false, 'app 1.0.0 [again]\n']],
    );
  });

  test('dies of a signal before confirming: rolled back with the signal as detail', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.killsItself }, trialState());
    const { result } = await launch(root, []);
    assert.deepEqual(result.rolledBack, { from: '1.1.0', to: '1.0.0', reason: 'crashed', detail: 'SIGKILL' });
    assert.equal((await readState(root)).current, '1.0.0');
  });

  test('cannot be started (entry missing in 1.1.0): rolled back as crashed, 1.0.0 runs', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0) }, trialState());
    await mkdir(join(root, 'versions', '1.1.0'));
    const { result, started } = await launch(root, []);
    assert.deepEqual(result.rolledBack, { from: '1.1.0', to: '1.0.0', reason: 'crashed', detail: 'ENOENT' });
    assert.deepEqual(
      started.map((s) => s.version),
      ['1.0.0'],
    );
  });

  test('hangs without confirming: rolled back for the next launch, killed, and 1.0.0 started', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.hangs }, trialState());
    const { result, started, log } = await launch(root, ARGS, { policy: { confirmWithinMs: 300 } });
    assert.deepEqual(result, {
      exitCode: 0,
      signal: null,
      version: '1.0.0',
      rolledBack: { from: '1.1.0', to: '1.0.0', reason: 'not-confirmed-in-time' },
    });
    assert.deepEqual(
      started.map((s) => [s.version, s.stdout]),
      [
        ['1.1.0', `app 1.1.0 ${ARGS_SHOWN}\n`],
        ['1.0.0', `app 1.0.0 ${ARGS_SHOWN}\n`],
      ],
    );
    assert.ok(log.some((l) => l.includes('exited with signal SIGTERM')));
    const state = await readState(root);
    assert.equal(state.current, '1.0.0');
    assert.deepEqual(state.failed, [{ version: '1.1.0', reason: 'not-confirmed-in-time', at: T1 }]);
  });

  test('hangs and ignores SIGTERM: killed with SIGKILL after the grace period', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.hangsIgnoringTerm }, trialState());
    const { result, log } = await launch(root, [], { policy: { confirmWithinMs: 300 }, killGraceMs: 200 });
    assert.equal(result.version, '1.0.0');
    assert.equal(result.rolledBack?.reason, 'not-confirmed-in-time');
    assert.ok(log.some((l) => l.includes('exited with signal SIGKILL')));
  });

  test('exits 0 without confirming: each launch is counted; after maxLaunches the next launch rolls back', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.exits(0) }, trialState());
    const policy = { maxLaunches: 2 };
    for (const launches of [1, 2]) {
      const { result } = await launch(root, [], { policy });
      assert.deepEqual(result, { exitCode: 0, signal: null, version: '1.1.0' });
      assert.deepEqual((await readState(root)).trial, {
        version: '1.1.0',
        launches,
        since: trialState().trial?.since,
      });
    }
    const third = await launch(root, ['x'], { policy });
    assert.deepEqual(third.result, {
      exitCode: 0,
      signal: null,
      version: '1.0.0',
      rolledBack: { from: '1.1.0', to: '1.0.0', reason: 'too-many-launches' },
    });
    assert.deepEqual(
      third.started.map((s) => [s.version, s.stdout]),
      [['1.0.0', 'app 1.0.0 [x]\n']],
    );
    const state = await readState(root);
    assert.equal(state.current, '1.0.0');
    assert.deepEqual(state.failed, [{ version: '1.1.0', reason: 'too-many-launches', at: T1 }]);
  });

  test('marked healthy at an earlier launch: the trial ends before it starts, and it runs as a plain version', async () => {
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.exits(3) }, trialState());
    await mkdir(join(root, 'health'));
    await writeFile(join(root, 'health', '1.1.0.ok'), '');
    const { result, started } = await launch(root, []);
    // A crash after confirmation is the app's own business: passed through, no rollback.
    assert.deepEqual(result, { exitCode: 3, signal: null, version: '1.1.0' });
    assert.deepEqual(
      started.map((s) => [s.version, s.trial]),
      [['1.1.0', false]],
    );
    assert.deepEqual((await readState(root)).lastResult, { kind: 'confirmed', version: '1.1.0', at: T1 });
  });

  test('crashes after install.json changed under it (it installed 1.2.0): no rollback over the new state', async () => {
    const next = trialState({
      current: '1.2.0',
      previous: '1.1.0',
      trial: { version: '1.2.0', launches: 0, since: T1 },
      lastResult: { kind: 'installed', version: '1.2.0', previous: '1.1.0', at: T1 },
    });
    // Stands in for the app's own updater: it switches install.json to 1.2.0, then the app crashes.
    const installsThenCrashes =
      'cp "$NOTSOTUF_INSTALL_ROOT/next.json" "$NOTSOTUF_INSTALL_ROOT/install.json"\nexit 3';
    await buildRoot(
      root,
      { '1.0.0': APP.exits(0), '1.1.0': installsThenCrashes, '1.2.0': APP.exits(0) },
      trialState(),
    );
    await writeFile(join(root, 'next.json'), `${JSON.stringify(next, null, 2)}\n`);
    const { result, started, log } = await launch(root, []);
    assert.deepEqual(result, { exitCode: 3, signal: null, version: '1.1.0' });
    assert.deepEqual(
      started.map((s) => s.version),
      ['1.1.0'],
    );
    assert.ok(log.some((l) => l.includes('changed by another process')));
    assert.deepEqual(await readState(root), next);
  });

  test('with no previous version: a crash is passed through and the trial goes on', async () => {
    await buildRoot(root, { '1.1.0': APP.exits(3) }, trialState({ previous: null }));
    const { result } = await launch(root, []);
    assert.deepEqual(result, { exitCode: 3, signal: null, version: '1.1.0' });
    assert.equal((await readState(root)).trial?.launches, 1);
  });
});

describe('a version not on trial', () => {
  test('runs with the args; its exit code is passed through; install.json is not touched', async () => {
    const state = trialState({ trial: null, current: '1.0.0', previous: null });
    await buildRoot(root, { '1.0.0': APP.exits(7) }, state);
    const { result, started } = await launch(root, ARGS);
    assert.deepEqual(result, { exitCode: 7, signal: null, version: '1.0.0' });
    assert.equal(started[0]?.stdout, `app 1.0.0 ${ARGS_SHOWN}\n`);
    assert.deepEqual(await readState(root), state);
  });

  test('a .mjs entry runs with Node and gets NOTSOTUF_INSTALL_ROOT and NOTSOTUF_VERSION', async () => {
    const entry = 'app/main.mjs';
    const app =
      'console.log(process.env.NOTSOTUF_INSTALL_ROOT, process.env.NOTSOTUF_VERSION, process.argv[2]);';
    await buildRoot(
      root,
      { '1.0.0': app },
      trialState({ trial: null, current: '1.0.0', previous: null, entry }),
    );
    const { result, started } = await launch(root, ['hi']);
    assert.equal(result.exitCode, 0);
    assert.equal(started[0]?.stdout, `${root} 1.0.0 hi\n`);
  });

  test('its entry cannot be started: INSTALL_FAILED that names the version', async () => {
    await buildRoot(root, {}, trialState({ trial: null, current: '1.0.0', previous: null }));
    await mkdir(join(root, 'versions', '1.0.0'), { recursive: true });
    await assert.rejects(launch(root, []), (err) => {
      assert.ok(isNotsotufError(err, 'INSTALL_FAILED'));
      assert.match(err.message, /1\.0\.0 could not be started \(ENOENT\)/);
      return true;
    });
  });
});

describe('nothing to start', () => {
  test('no install.json: INSTALL_FAILED saying no version is selected and what to do', async () => {
    await assert.rejects(launchApp({ root, args: [] }), (err) => {
      assert.ok(isNotsotufError(err, 'INSTALL_FAILED'));
      assert.match(err.message, /install\.json does not exist/);
      assert.match(err.hint ?? '', /reinstall the app/);
      return true;
    });
  });

  test('the selected version is missing and nothing to fall back to: INSTALL_FAILED, reinstall', async () => {
    await buildRoot(root, {}, trialState({ trial: null, current: '1.0.0', previous: null }));
    await assert.rejects(launchApp({ root, args: [] }), (err) => {
      assert.ok(isNotsotufError(err, 'INSTALL_FAILED'));
      assert.match(`${err.message} ${err.hint}`, /reinstall/i);
      return true;
    });
  });
});
