/**
 * An install cancelled through its AbortSignal at every point where it looks at the signal: a real AbortSignal
 * that aborts itself on its N-th `aborted` check (as if the user cancelled right then), for N = 1, 2, … until an
 * install gets through all its checks and completes. Every cancelled run must throw ABORTED and change nothing
 * (the same root, compared byte for byte after each run); together they cover steps 1 to 4. After the switch an
 * abort is ignored. Runs in-process with the source (no child process needed: the signal is the only input).
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type InstallContext, readInstallState, versionDir } from '../../../src/install/index.js';
import { buildTree, tempDir } from '../helpers.js';
import { assertNotsotufError, assertUnchanged, takeBefore } from './failures-support.js';
import { installVersion, makeRelease, makeRoot } from './fixtures.js';

const ABORTED_GETTER = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get as (
  this: AbortSignal,
) => boolean;

/** A real AbortSignal (listeners fire) that aborts on its `at`-th read of `aborted`. */
function abortOnCheck(at: number): { signal: AbortSignal; checks: () => number } {
  const controller = new AbortController();
  const { signal } = controller;
  let checks = 0;
  Object.defineProperty(signal, 'aborted', {
    get() {
      checks += 1;
      if (checks >= at && !ABORTED_GETTER.call(signal)) controller.abort(new Error('the user cancelled'));
      return ABORTED_GETTER.call(signal);
    },
  });
  return { signal, checks: () => checks };
}

/** Safety bound: a release of a dozen entries has far fewer check points than this. */
const MAX_CHECKS = 400;

describe('an install cancelled at each check of its signal changes nothing', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-abort-'));
  });
  after(() => cleanup());

  /** A root with 1.0.0 (previous) and 1.1.0 (current), and the release 1.2.0. */
  async function setup() {
    const dir = join(base, `case-${++n}`);
    const root = await makeRoot(dir);
    for (const v of ['1.0.0', '1.1.0']) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    return { root, release: await makeRelease(dir, '1.2.0') };
  }

  /**
   * Cancels the install of 1.2.0 at check 1, 2, … until one completes; returns the steps the cancellations landed
   * in (the last step announced before each; 0: before step 1 was announced).
   */
  async function cancelEverywhere(root: string, releaseDir: string): Promise<Set<number>> {
    const before = await takeBefore(root);
    const landedIn = new Set<number>();
    for (let at = 1; at <= MAX_CHECKS; at++) {
      const { signal, checks } = abortOnCheck(at);
      let step = 0;
      const onStep: InstallContext['onStep'] = (s) => {
        step = s.index;
      };
      const outcome = await installVersion(root, releaseDir, '1.2.0', {}, { signal, onStep }).then(
        () => 'installed' as const,
        (err: unknown) => err,
      );
      if (outcome === 'installed') {
        assert.ok(checks() < at, `completed although check ${at} aborted`);
        assert.equal((await readInstallState(root))?.current, '1.2.0');
        return landedIn;
      }
      assertNotsotufError(outcome, 'ABORTED', /Install the update again/);
      assert.match((outcome as Error).message, /cancelled; nothing was changed/, `cancelled at check ${at}`);
      await assertUnchanged(before);
      landedIn.add(step);
    }
    assert.fail(`the install still checked its signal after ${MAX_CHECKS} checks`);
  }

  test('a fresh install of the next version', async () => {
    const { root, release } = await setup();
    assert.deepEqual([...(await cancelEverywhere(root, release.dir))].sort(), [0, 1, 2, 3, 4]);
  });

  test('versions/1.2.0 exists with other content (not selected): it is moved aside and put back', async () => {
    const { root, release } = await setup();
    await buildTree(versionDir(root, '1.2.0'), { 'half-copied-by-hand.txt': 'partial' });
    const landed = await cancelEverywhere(root, release.dir);
    assert.ok(landed.has(3), 'some cancellations landed after the move aside');
  });

  test('versions/1.2.0 exists and is identical (an install killed before its switch): it is compared, then reused', async () => {
    const { root, release } = await setup();
    await cp(release.dir, versionDir(root, '1.2.0'), { recursive: true, verbatimSymlinks: true });
    const landed = await cancelEverywhere(root, release.dir);
    assert.ok(landed.has(3), 'some cancellations landed while the trees were compared');
  });

  test('a signal that aborts while the cleanup is announced (after the switch) is ignored', async () => {
    const { root, release } = await setup();
    const controller = new AbortController();
    const onStep: InstallContext['onStep'] = (s) => s.index === 5 && controller.abort();
    await installVersion(root, release.dir, '1.2.0', {}, { signal: controller.signal, onStep });
    assert.equal((await readInstallState(root))?.current, '1.2.0');
  });
});
