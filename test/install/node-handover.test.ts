/**
 * The node hand-over (the default Windows hand-over) with real processes on this machine: an "app" process writes
 * the hand-over through the built package (dist) the way `inPlaceStrategy` does on win32, starts the helper and
 * quits; the helper waits for that pid, installs the release with the journaled in-place install, and restarts
 * the app with the result in its environment. Windows' file locking itself is exercised by the Wine lane
 * (`npm run test:windows`); what is tested here is the helper's protocol: waiting, installing, undoing, timing out,
 * restarting, logging.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { checkHandoverPlan, HANDOVER_PLAN_FORMAT } from '../../src/install/handover/plan.js';
import { PROJECT_ROOT } from '../cli/run-cli.js';
import { buildTree, tempDir } from './helpers.js';

const DIST_INSTALL = pathToFileURL(join(PROJECT_ROOT, 'dist', 'install', 'index.js')).href;
const HELPER_MAIN = join(PROJECT_ROOT, 'dist', 'install', 'handover', 'main.js');

let root: string;
let cleanup: () => Promise<void>;
let cases = 0;
before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(() => cleanup());

async function waitFor(path: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(50);
  }
  await sleep(50); // the writer may still be writing
  return readFile(path, 'utf8');
}

/** An install dir with v1, a release dir with v2, and a restart script that records how it was started. */
async function setup() {
  const dir = join(root, `case-${cases++}`);
  const installDir = join(dir, 'app');
  const sourceDir = join(dir, 'release');
  await buildTree(installDir, { 'app.js': 'v1', 'lib/old.txt': 'old', 'data/user.txt': 'mine' });
  await buildTree(sourceDir, { 'app.js': 'v2', 'lib/new.txt': 'new' });
  const marker = join(dir, 'restarted.json');
  const restartScript = join(dir, 'restart.mjs');
  await writeFile(
    restartScript,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, JSON.stringify({ result: process.env.NOTSOTUF_HANDOVER_RESULT, log: process.env.NOTSOTUF_HANDOVER_LOG, args: process.argv.slice(2) }));\n`,
  );
  const restart = { command: process.execPath, args: [restartScript, 'with space'] };
  return { dir, installDir, sourceDir, marker, restart };
}

describe('the node hand-over helper', () => {
  test('the app writes the hand-over and quits; the helper installs after it exits and restarts it', async () => {
    const c = await setup();
    // The app: writes the hand-over through the built package, starts it, reports its log path, then lingers a
    // little (the helper must wait for it) and exits.
    const appScript = join(c.dir, 'app-process.mjs');
    await writeFile(
      appScript,
      `import { inPlaceStrategy } from ${JSON.stringify(DIST_INSTALL)};
const strategy = inPlaceStrategy({ platform: 'win32', purge: true, exclude: ['data'],
  handover: { restart: ${JSON.stringify(c.restart)} } });
const outcome = await strategy.install({ installDir: ${JSON.stringify(c.installDir)}, sourceDir: ${JSON.stringify(c.sourceDir)}, version: '2.0.0' });
await outcome.handover.start();
process.stdout.write(JSON.stringify({ log: outcome.handover.logFile, plan: outcome.handover.scriptPath }));
setTimeout(() => process.exit(0), 1500);
`,
    );
    const app = spawn(process.execPath, [appScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    app.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((resolve) => app.stdout.once('data', resolve));
    await sleep(300);
    assert.equal(
      await readFile(join(c.installDir, 'app.js'), 'utf8'),
      'v1',
      'nothing changes while the app runs',
    );
    const exited = new Promise((resolve) => app.once('exit', resolve));
    const restarted = JSON.parse(await waitFor(c.marker));
    await exited;
    const { log, plan } = JSON.parse(out) as { log: string; plan: string };
    assert.deepEqual(restarted, { result: 'installed', log, args: ['with space'] });
    assert.equal(await readFile(join(c.installDir, 'app.js'), 'utf8'), 'v2');
    assert.equal(await readFile(join(c.installDir, 'lib', 'new.txt'), 'utf8'), 'new');
    assert.ok(!existsSync(join(c.installDir, 'lib', 'old.txt')), 'purged');
    assert.equal(
      await readFile(join(c.installDir, 'data', 'user.txt'), 'utf8'),
      'mine',
      'excluded from purge',
    );
    const text = await readFile(log, 'utf8');
    assert.match(text, /waiting for process \d+ to exit/);
    assert.match(text, /step 3\/5: Copy the new files into place/);
    assert.match(text, /finished with exit code 0/);
    assert.equal(checkHandoverPlan(JSON.parse(await readFile(plan, 'utf8'))).version, '2.0.0');
  });

  /** Writes a plan for `setup()`'s dirs and runs the helper to its end; returns its exit code and log. */
  async function runHelper(c: Awaited<ReturnType<typeof setup>>, fields: Record<string, unknown>) {
    const planPath = join(c.dir, 'plan.json');
    const logFile = join(c.dir, 'handover.log');
    const plan = {
      format: HANDOVER_PLAN_FORMAT,
      pid: 1,
      waitTimeoutSeconds: 0,
      sourceDir: c.sourceDir,
      installDir: c.installDir,
      purge: false,
      exclude: [],
      version: '2.0.0',
      logFile,
      retryCount: 2,
      retryWaitSeconds: 0,
      restart: c.restart,
      ...fields,
    };
    await writeFile(planPath, JSON.stringify(plan));
    const r = spawnSync(process.execPath, [HELPER_MAIN, planPath], { encoding: 'utf8', timeout: 60_000 });
    return {
      status: r.status,
      stderr: r.stderr,
      log: existsSync(logFile) ? await readFile(logFile, 'utf8') : '',
    };
  }

  test('an app that does not quit in time: exit 3, nothing changed, no restart', async () => {
    const c = await setup();
    const app = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const r = await runHelper(c, { pid: app.pid, waitTimeoutSeconds: 1 });
      assert.equal(r.status, 3);
      assert.match(r.log, /still runs after 1 s; nothing was changed/);
      assert.equal(await readFile(join(c.installDir, 'app.js'), 'utf8'), 'v1');
      assert.ok(!existsSync(c.marker), 'not restarted');
    } finally {
      app.kill();
    }
  });

  test('a release that cannot be installed: undone, exit 1, the app restarted with result=failed', async () => {
    const c = await setup();
    await rm(c.sourceDir, { recursive: true });
    const app = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => app.once('exit', resolve));
    const r = await runHelper(c, { pid: app.pid });
    assert.equal(r.status, 1);
    assert.match(r.log, /ERROR: .*version 2\.0\.0/);
    assert.match(r.log, /the previous version is in place/);
    assert.equal(await readFile(join(c.installDir, 'app.js'), 'utf8'), 'v1');
    assert.equal(JSON.parse(await waitFor(c.marker)).result, 'failed');
  });

  test('an unreadable plan: exit 4 with the reason on stderr and beside the plan', async () => {
    const c = await setup();
    const r = await runHelper(c, { purge: 'yes' });
    assert.equal(r.status, 4);
    assert.match(r.stderr, /purge must be true or false/);
    assert.match(await readFile(join(c.dir, 'plan.json.log'), 'utf8'), /purge must be true or false/);
    assert.ok(!existsSync(c.marker));
  });

  test('checkHandoverPlan refuses what the helper must not act on', () => {
    const good = {
      format: HANDOVER_PLAN_FORMAT,
      pid: 5,
      waitTimeoutSeconds: 0,
      sourceDir: 's',
      installDir: 'i',
      purge: true,
      exclude: ['logs'],
      version: '1',
      logFile: 'l',
      retryCount: 1,
      retryWaitSeconds: 0,
    };
    assert.equal(checkHandoverPlan(good).pid, 5);
    for (const [field, value, reason] of [
      ['format', 'other', /format/],
      ['pid', 0, /pid/],
      ['installDir', '', /installDir/],
      ['sourceDir', 'a\0b', /sourceDir/],
      ['exclude', ['../x'], /exclude|pattern/i],
      ['restart', { command: '', args: [] }, /restart\.command/],
      ['retryCount', 0, /retryCount/],
    ] as const) {
      assert.throws(
        () => checkHandoverPlan({ ...good, [field]: value }),
        (err: unknown) => (err as { code?: string }).code === 'INVALID_ARGUMENT' && reason.test(String(err)),
        field,
      );
    }
  });
});
