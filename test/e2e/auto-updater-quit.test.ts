/**
 * The AutoUpdater's install on quit with the in-place layout, with real processes: an app (a Node script using the
 * built package) runs an AutoUpdater that downloads an update from a served repository and prepares the hand-over;
 * the app's files do not change while it runs. The app then quits — by itself, the timer being unref'd, or through
 * quitAndInstall() — and the detached hand-over helper, started from the app's `exit`, waits for the app's process
 * to end and installs the update. The installed tree is checked afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../cli/run-cli.js';
import {
  appFiles,
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';

const DIST_CLIENT = join(PROJECT_ROOT, 'dist', 'client', 'index.js');

/** The app: keeps itself alive until the update is downloaded, reports what it saw, then quits as told. */
const APP = `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const cfg = JSON.parse(process.argv[2]);
const { AutoUpdater, Client } = await import(cfg.dist);
const client = new Client({
  appName: 'app', currentVersion: '1.0.0', installDir: cfg.installDir, cacheDir: cfg.cacheDir,
  metadataUrl: cfg.url + '/metadata/', targetsUrl: cfg.url + '/targets/', trustedRoot: { path: cfg.trustedRoot },
  fetch: { retryDelayMs: 5 },
});
const updater = new AutoUpdater({ client, interval: 60000, autoInstall: cfg.autoInstall });
const alive = setInterval(() => {}, 1000); // the app's own work
updater.on('error', ({ error }) => {
  writeFileSync(cfg.report, JSON.stringify({ error: error.code, message: error.message }));
  process.exit(9);
});
updater.on('update-downloaded', async (e) => {
  const report = { ready: e.ready, version: e.info.version, handoverLog: e.handoverLog ?? null,
    versionWhileRunning: readFileSync(join(cfg.installDir, 'VERSION'), 'utf8') };
  if (cfg.mode === 'quit-and-install') {
    await updater.quitAndInstall({ restart: true, restartCommand: cfg.restart, exit: (quit) => {
      writeFileSync(cfg.report, JSON.stringify({ ...report, quit }));
      process.exit(0);
    } });
  } else {
    writeFileSync(cfg.report, JSON.stringify(report));
    clearInterval(alive); // nothing keeps the process alive any more: it exits by itself
  }
});
updater.start();
`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function run(script: string, cfg: object): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(cfg)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('AutoUpdater, in-place layout: install on quit through the hand-over helper', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  let n = 0;
  const handoverDirs: string[] = [];

  before(async () => {
    assert.ok(
      existsSync(DIST_CLIENT),
      `${DIST_CLIENT} is missing: run \`npm run build\` first (npm test does)`,
    );
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-e2e-auto-quit-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' }) },
    ]);
    await writeFile(join(work, 'app.mjs'), APP);
  });
  after(async () => {
    await served.close();
    for (const dir of handoverDirs) await rm(dir, { recursive: true, force: true });
    await cleanup();
  });

  async function setup() {
    const dir = join(work, `case-${n++}`);
    const installDir = join(dir, 'app');
    const cacheDir = join(dir, 'cache');
    await installArchive(
      await publishedArchive(served.repo, 'app-1.0.0.tar.gz'),
      'app-1.0.0.tar.gz',
      installDir,
      cacheDir,
    );
    const cfg = {
      dist: pathToFileURL(DIST_CLIENT).href,
      installDir,
      cacheDir,
      url: served.server.url,
      trustedRoot: served.trustedRoot,
      report: join(dir, 'report.json'),
    };
    return { dir, installDir, cfg };
  }

  /** Waits until the helper's log says it finished, then returns the log. */
  async function helperLog(path: string): Promise<string> {
    handoverDirs.push(dirname(path));
    return waitFor('the hand-over helper', async () => {
      const log = await readFile(path, 'utf8').catch(() => '');
      return /finished with exit code \d/.test(log) ? log : undefined;
    });
  }

  async function expectInstalled(installDir: string, dir: string) {
    const expected = await snapshotTree(
      await writeBundle(join(dir, 'expected'), appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' })),
    );
    assert.deepEqual(await snapshotTree(installDir), expected);
  }

  it('on-quit: the app exits by itself after the download; the helper installs once it is gone', async () => {
    const { dir, installDir, cfg } = await setup();
    const before = await snapshotTree(installDir);
    const app = await run(join(work, 'app.mjs'), { ...cfg, autoInstall: true, mode: 'exit' });
    assert.equal(app.code, 0, app.stderr);
    const report = JSON.parse(await readFile(cfg.report, 'utf8'));
    assert.equal(report.error, undefined, report.message);
    assert.equal(report.ready, 'on-quit');
    assert.equal(report.version, '1.1.0');
    assert.equal(report.versionWhileRunning, '1.0.0\n', 'the running app was not changed under it');
    const log = await helperLog(report.handoverLog);
    assert.match(log, /waiting for process|step 1\/5/);
    assert.match(log, /finished with exit code 0/);
    await expectInstalled(installDir, dir);
    assert.notDeepEqual(await snapshotTree(installDir), before);
  });

  it('quitAndInstall({ restart }): starts the helper, calls exit; the app is installed and restarted', async () => {
    const { dir, installDir, cfg } = await setup();
    const marker = join(dir, 'restarted.json');
    const restartScript = join(dir, 'restarted.mjs');
    await writeFile(
      restartScript,
      `import { readFileSync, writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, JSON.stringify({ result: process.env.NOTSOTUF_HANDOVER_RESULT, version: readFileSync(${JSON.stringify(join(installDir, 'VERSION'))}, 'utf8') }));\n`,
    );
    const app = await run(join(work, 'app.mjs'), {
      ...cfg,
      autoInstall: false,
      mode: 'quit-and-install',
      restart: { command: process.execPath, args: [restartScript] },
    });
    assert.equal(app.code, 0, app.stderr);
    const report = JSON.parse(await readFile(cfg.report, 'utf8'));
    assert.equal(report.error, undefined, report.message);
    assert.equal(report.ready, null, 'autoInstall: false prepares nothing before quitAndInstall');
    assert.equal(report.versionWhileRunning, '1.0.0\n');
    assert.equal(report.quit.kind, 'after-exit');
    assert.equal(report.quit.version, '1.1.0');
    const log = await helperLog(report.quit.handoverLog);
    assert.match(log, /finished with exit code 0/);
    await expectInstalled(installDir, dir);
    const restarted = JSON.parse(
      await waitFor('the restart', () => readFile(marker, 'utf8').catch(() => undefined)),
    );
    assert.deepEqual(restarted, { result: 'installed', version: '1.1.0\n' });
  });
});
