/**
 * Windows lane, Test C: the hand-over of a running app. The app ships its own runtime as `app.exe` (a copy of
 * node.exe) in its install directory and runs from there, so the executable an update must replace is the one
 * running. It updates itself through the Client with the in-place strategy: on win32 that writes a hand-over
 * plan, starts the node helper (a copy of `app.exe` outside the install dir) and quits. The helper waits for the
 * app's process to end, replaces its files — `app.exe` included — and starts it again; the new version records
 * how it was started. Release 2's `app.exe` is release 1's with other bytes appended (a PE file runs with an
 * overlay), so the test can tell which one is in place.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';
import { describeRun, distModule, nodeExePath, WineWorkDir } from './wine-runner.js';

/** The app: run once, it updates itself and hands over; started again by the helper, it reports and exits. */
const APP = `import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
const config = JSON.parse(readFileSync(join(here, '..', 'app-config.json'), 'utf8'));
const version = readFileSync(join(here, 'VERSION'), 'utf8').trim();
if (process.env.NOTSOTUF_HANDOVER_RESULT) {
  writeFileSync(config.restarted, JSON.stringify({ version, result: process.env.NOTSOTUF_HANDOVER_RESULT, args: process.argv.slice(2) }));
  process.exit(0);
}
const { Client } = await import(config.client);
const { inPlaceStrategy } = await import(config.install);
const client = new Client({
  appName: 'app', currentVersion: version, installDir: here, cacheDir: config.cacheDir,
  metadataUrl: config.metadataUrl, targetsUrl: config.targetsUrl, trustedRoot: { path: config.trustedRoot },
  installStrategy: inPlaceStrategy({ purge: true, handover: { restart: { command: process.execPath, args: [join(here, 'app.mjs'), 'restarted'] } } }),
});
const result = await client.update();
if (result?.outcome.kind === 'handover') await result.outcome.handover.start();
writeFileSync(config.first, JSON.stringify({ outcome: result?.outcome.kind, method: result?.download.method, execPath: process.execPath }));
process.exit(0);
`;

const HANDOVER_WAIT_MS = 120_000;

describe('the hand-over of a running app under Wine', { timeout: 600_000 }, () => {
  let linux: { dir: string; cleanup: () => Promise<void> };
  let served: PublishedRepo;
  let work: WineWorkDir;
  let exe: Buffer;

  before(async () => {
    linux = await makeTempDir('notsotuf-wine-handover-');
    exe = await readFile(nodeExePath());
    const bundle = (version: string) => ({
      version,
      files: {
        'app.exe': Buffer.concat([exe, Buffer.from(`notsotuf test overlay ${version}`)]),
        'app.mjs': APP,
        VERSION: `${version}\n`,
        ...(version === '1.0.0' ? { 'old.txt': 'only in 1.0.0\n' } : { 'new.txt': 'new in 2.0.0\n' }),
      },
    });
    served = await servedRepo(linux.dir, [bundle('1.0.0'), bundle('2.0.0')]);
    work = await WineWorkDir.create('handover');
    const at = (rel: string) => join(work.dir, rel);
    const archive = 'app-1.0.0.tar.gz';
    await installArchive(await publishedArchive(served.repo, archive), archive, at('My App'), at('cache'));
    await copyFile(served.trustedRoot, at('root.json'));
    const url = served.server.url;
    await writeFile(
      at('app-config.json'),
      JSON.stringify({
        client: distModule('client/index.js'),
        install: distModule('install/index.js'),
        cacheDir: work.win('cache'),
        metadataUrl: `${url}/metadata/`,
        targetsUrl: `${url}/targets/`,
        trustedRoot: work.win('root.json'),
        first: work.win('first-run.json'),
        restarted: work.win('restarted.json'),
      }),
    );
  });
  after(async () => {
    await served?.close();
    await work?.cleanup();
    await linux?.cleanup();
  });

  it('replaces the running app.exe after the app quits, then restarts the new version', async () => {
    const r = await work.app(work.win('My App/app.exe'), [work.win('My App/app.mjs')], {
      timeoutMs: 180_000,
    });
    assert.equal(r.status, 0, describeRun(r));
    const first = JSON.parse(await readFile(join(work.dir, 'first-run.json'), 'utf8'));
    assert.equal(first.outcome, 'handover', describeRun(r));
    assert.equal(first.method, 'patch');
    assert.match(first.execPath, /My App\\app\.exe$/i, 'the app ran from its own runtime in the install dir');

    const marker = join(work.dir, 'restarted.json');
    const deadline = Date.now() + HANDOVER_WAIT_MS;
    while (!existsSync(marker) && Date.now() < deadline) await sleep(250);
    assert.ok(existsSync(marker), `the app was not restarted within ${HANDOVER_WAIT_MS} ms`);
    await sleep(250);
    assert.deepEqual(JSON.parse(await readFile(marker, 'utf8')), {
      version: '2.0.0',
      result: 'installed',
      args: ['restarted'],
    });
    const installed = await readFile(join(work.dir, 'My App', 'app.exe'));
    assert.equal(
      installed.subarray(exe.length).toString(),
      'notsotuf test overlay 2.0.0',
      'app.exe was replaced',
    );
    assert.equal(await readFile(join(work.dir, 'My App', 'new.txt'), 'utf8'), 'new in 2.0.0\n');
    assert.ok(!existsSync(join(work.dir, 'My App', 'old.txt')), 'purged');
  });
});
