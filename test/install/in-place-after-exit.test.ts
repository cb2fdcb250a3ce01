/**
 * `inPlaceStrategy({ afterExit: true })` outside Windows: the install only checks and writes the node hand-over (the
 * install directory is untouched until the helper runs after the app exits); the Windows-only helpers are refused.
 * The helper itself runs in test/install/node-handover.test.ts and test/e2e/auto-updater-quit.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { inPlaceStrategy } from '../../src/install/index.js';
import { buildTree, snapshot, tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(() => cleanup());

test('afterExit on linux: a hand-over is returned, nothing in the install dir changes', async () => {
  const installDir = join(root, 'app');
  const sourceDir = join(root, 'release');
  await buildTree(installDir, { 'app.js': 'v1' });
  await buildTree(sourceDir, { 'app.js': 'v2', 'lib/new.txt': 'new' });
  const before = await snapshot(installDir);
  const steps: string[] = [];
  const strategy = inPlaceStrategy({
    platform: 'linux',
    afterExit: true,
    handover: { helperCommand: { command: process.execPath, args: ['helper.js'] } },
  });
  const outcome = await strategy.install({
    installDir,
    sourceDir,
    version: '2.0.0',
    onStep: (s) => steps.push(s.title),
  });
  assert.equal(outcome.kind, 'handover');
  assert.deepEqual(steps, ['Check the new release and the install directory', 'Write the hand-over script']);
  assert.deepEqual(await snapshot(installDir), before);
  if (outcome.kind !== 'handover') return;
  const plan = JSON.parse(await readFile(outcome.handover.scriptPath, 'utf8'));
  assert.equal(plan.pid, process.pid);
  assert.equal(plan.installDir, installDir);
  assert.equal(plan.sourceDir, sourceDir);
  await rm(dirname(outcome.handover.scriptPath), { recursive: true, force: true });
});

test('without afterExit, linux installs at once', async () => {
  const installDir = join(root, 'now');
  const sourceDir = join(root, 'now-release');
  await buildTree(installDir, { 'app.js': 'v1' });
  await buildTree(sourceDir, { 'app.js': 'v2' });
  const outcome = await inPlaceStrategy({ platform: 'linux' }).install({
    installDir,
    sourceDir,
    version: '2',
  });
  assert.equal(outcome.kind, 'installed');
  assert.equal(await readFile(join(installDir, 'app.js'), 'utf8'), 'v2');
});

for (const handover of [{ helper: 'powershell' as const }, { elevate: true }]) {
  test(`outside win32, ${JSON.stringify(handover)} is refused at once`, () => {
    assert.throws(() => inPlaceStrategy({ platform: 'linux', afterExit: true, handover }), {
      code: 'INVALID_ARGUMENT',
    });
  });
}
