/**
 * `client.restart()` (quit-and-install) must start the app exactly as its entry point does, trial limits included:
 * an installer that wrote `writeEntryPoint(root, { trial })` gets those limits whether the user starts the app or
 * the app restarts itself after an update. Real processes: the detached launcher (built, dist/) and real apps, for
 * an entry point that runs notsotuf-launch with Node and for a self-launching one.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '../../src/client/client.js';
import { writeEntryPoint } from '../../src/install/index.js';
import { readState, tempDir, trialState } from '../install/launcher/helpers.js';

const DIST_MAIN = fileURLToPath(new URL('../../dist/install/launcher/main.js', import.meta.url));
const DIST_INSTALL = fileURLToPath(new URL('../../dist/install/index.js', import.meta.url));
const BUILT = existsSync(DIST_MAIN) ? false : 'dist/ is missing: run `npm run build` first';

/**
 * Each version's `bin/app`: a real executable running its module with this test's Node. The module takes the
 * launcher's part when started as one (self-launching apps), else records its run in data/ and exits 0 without
 * confirming its health: a version on trial stays on trial, and only the launch count can end it.
 */
async function addVersion(root: string, version: string): Promise<void> {
  const dir = join(root, 'versions', version);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(
    join(dir, 'app.mjs'),
    [
      `import { exitLike, launcherMode } from ${JSON.stringify(pathToFileURL(DIST_INSTALL).href)};`,
      "import { mkdirSync, renameSync, writeFileSync } from 'node:fs';",
      'const outcome = await launcherMode();',
      'if (outcome !== undefined) exitLike(outcome);',
      'else {',
      "  const data = process.env.NOTSOTUF_INSTALL_ROOT + '/data';",
      '  mkdirSync(data, { recursive: true });',
      '  const run = { version: process.env.NOTSOTUF_VERSION, args: process.argv.slice(2) };',
      "  writeFileSync(data + '/last-run.tmp', JSON.stringify(run));",
      "  renameSync(data + '/last-run.tmp', data + '/last-run.json');",
      '}',
    ].join('\n'),
  );
  const exe = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$(dirname "$0")/../app.mjs" "$@"\n`;
  await writeFile(join(dir, 'bin', 'app'), exe, { mode: 0o755 });
}

/** A client of the install root; restart() needs no repository, so the URLs are never used. */
function clientOf(root: string, cacheDir: string): Client {
  return new Client({
    appName: 'app',
    currentVersion: '1.1.0',
    installDir: root,
    cacheDir,
    metadataUrl: 'http://127.0.0.1:9/metadata/',
    targetsUrl: 'http://127.0.0.1:9/targets/',
    trustedRoot: Buffer.from('{}'),
  });
}

/** Waits until the detached launcher has logged the end of its app (it flushes launcher.log before it exits). */
async function waitForLauncher(root: string, ended: RegExp): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const log = await readFile(join(root, 'launcher.log'), 'utf8').catch(() => '');
    if (ended.test(log)) {
      await new Promise((r) => setTimeout(r, 100)); // the launcher's last write and exit
      return log;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the launcher did not log ${ended}`);
}

const lastRun = async (root: string) =>
  JSON.parse(await readFile(join(root, 'data', 'last-run.json'), 'utf8')) as unknown;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-restart-'));
});
afterEach(() => cleanup());

describe('client.restart() applies the entry point’s trial limits', { skip: BUILT }, () => {
  for (const selfLaunch of [false, true]) {
    test(`${selfLaunch ? 'self-launching' : 'node'} entry point with { confirmWithinSeconds: 30, maxLaunches: 1 }: the second restart rolls back`, async () => {
      const root = join(dir, 'root');
      await addVersion(root, '1.0.0');
      await addVersion(root, '1.1.0');
      // 1.1.0 was just installed over a confirmed 1.0.0 and is on trial, never launched yet.
      await writeFile(join(root, 'install.json'), JSON.stringify(trialState(), null, 2));
      await writeEntryPoint(root, {
        appName: 'app',
        ...(selfLaunch ? { selfLaunch: true } : { launcherPath: DIST_MAIN }),
        trial: { confirmWithinSeconds: 30, maxLaunches: 1 },
      });
      const client = clientOf(root, join(dir, 'cache'));

      await client.restart({ args: ['--first'], ...(selfLaunch ? {} : { launcherPath: DIST_MAIN }) });
      const first = await waitForLauncher(root, /1\.1\.0 exited with code 0/);
      assert.match(
        first,
        /starting 1\.1\.0 on trial \(launch 1 of 1\): it must confirm it works within 30000 ms/,
      );
      assert.deepEqual(await lastRun(root), { version: '1.1.0', args: ['--first'] });
      assert.equal((await readState(root)).trial?.launches, 1);

      // Its one launch is used up without a confirmation: the next start rolls back, as the entry point would.
      await rm(join(root, 'launcher.log'));
      await client.restart({ args: ['--second'], ...(selfLaunch ? {} : { launcherPath: DIST_MAIN }) });
      await waitForLauncher(root, /1\.0\.0 exited with code 0/);
      assert.deepEqual(await lastRun(root), { version: '1.0.0', args: ['--second'] });
      const state = await readState(root);
      assert.equal(state.current, '1.0.0');
      assert.deepEqual(
        state.failed.map((f) => [f.version, f.reason]),
        [['1.1.0', 'too-many-launches']],
      );
    });
  }
});
