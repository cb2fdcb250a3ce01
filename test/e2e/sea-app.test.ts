/**
 * The self-updating Node single-executable app of examples/sea-app, end to end with real processes: the notsotuf
 * CLI publishes releases built by the example's build script and serves them (`notsotuf serve`); 1.0.0 is
 * installed from its published archive the way an installer would; the real executable updates itself to 1.1.0
 * through a patch and restarts into it; a broken 1.2.0 is rolled back on its own and 1.1.0 keeps running.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { extractTar } from '../../src/archive/extract-tar.js';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { CLI_PATH, cli, PROJECT_ROOT } from '../cli/run-cli.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function seaMissing(): string | false {
  if (process.platform !== 'linux') return 'the SEA example test runs on Linux';
  if (!existsSync(CLI_PATH)) return 'dist/ is missing: run `npm run build` first (npm test does)';
  if (!readFileSync(process.execPath).includes(SEA_FUSE)) {
    return `${process.execPath} was built without single-executable support (no SEA fuse)`;
  }
  return false;
}

interface InstallState {
  current: string;
  trial: unknown;
  failed: { version: string }[];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 1200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('examples/sea-app: a Node single-executable app that updates itself', { skip: seaMissing() }, () => {
  let server: ChildProcess | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  after(async () => {
    server?.kill();
    await cleanup?.();
  });

  test('1.0.0 updates itself to 1.1.0 by patch and restarts; a crashing 1.2.0 is rolled back', async (t) => {
    const made = await makeTempDir('notsotuf-sea-');
    cleanup = made.cleanup;
    const cwd = made.dir;
    const long = { cwd, timeoutMs: 600_000 };
    await cli(['init', '--app', 'sea_app', '--unencrypted'], { cwd });
    const rootJson = join(cwd, 'repository', 'metadata', '1.root.json');
    const { buildSeaApp } = (await import(join(PROJECT_ROOT, 'examples', 'sea-app', 'build.mjs'))) as {
      buildSeaApp(o: {
        version: string;
        root: string;
        out: string;
        crash?: boolean;
        features?: string[];
      }): Promise<unknown>;
    };
    const release = (v: string) => join(cwd, 'releases', v);
    await buildSeaApp({ version: '1.0.0', root: rootJson, out: release('1.0.0') });
    // 1.1.0 has new code: the --status command.
    await buildSeaApp({ version: '1.1.0', root: rootJson, out: release('1.1.0'), features: ['status'] });
    await cli(['release', 'add', release('1.0.0'), '--version', '1.0.0'], long);
    const added = (
      await cli(['release', 'add', release('1.1.0'), '--version', '1.1.0', '--json'], long)
    ).json() as { release: { patch?: { length: number }; archive: { length: number } } };
    assert.ok(added.release.patch, 'a patch from 1.0.0 was made');
    const pub = join(cwd, 'public');
    await cli(['publish', '--to', `dir:${pub}`], long);

    server = spawn(process.execPath, [CLI_PATH, 'serve', pub, '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server!.stdout!.on('data', (b: Buffer) => {
        text += b.toString();
        try {
          resolve((JSON.parse(text) as { url: string }).url);
        } catch {
          // Not all of the JSON document yet.
        }
      });
      server!.once('exit', () => reject(new Error('notsotuf serve exited')));
    });
    const env = { ...process.env, SEA_APP_UPDATE_URL: url };

    // The installer: the published 1.0.0 archive, unpacked, installs itself (and keeps the archive as patch base).
    const archiveName = (await readdir(join(pub, 'targets'))).find((f) =>
      f.endsWith('.sea_app-1.0.0.tar.gz'),
    )!;
    const archive = join(pub, 'targets', archiveName);
    const unpacked = join(cwd, 'download');
    await mkdir(unpacked);
    await gunzipToFile(archive, join(cwd, 'download.tar'));
    await extractTar(join(cwd, 'download.tar'), join(unpacked, 'sea-app-1.0.0'));
    const root = join(cwd, 'install');
    const installed = spawnSync(
      join(unpacked, 'sea-app-1.0.0', 'bin', 'sea-app'),
      ['--install', root, '--archive', archive],
      { encoding: 'utf8', env },
    );
    assert.equal(installed.status, 0, installed.stderr);
    const entry = join(root, 'sea-app');
    const state = async () => JSON.parse(await readFile(join(root, 'install.json'), 'utf8')) as InstallState;
    const appLog = () => readFile(join(root, 'data', 'sea-app.log'), 'utf8').catch(() => '');

    // 1.0.0 starts, updates itself by patch and restarts into 1.1.0, which confirms its health.
    const first = spawnSync(entry, ['--update-now'], { encoding: 'utf8', env, timeout: 300_000 });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^sea-app 1\.0\.0 running$/m);
    const updated = /updated to 1\.1\.0 via (\w+): downloaded (\d+) bytes \(full archive (\d+) bytes\)/.exec(
      first.stdout,
    );
    assert.ok(updated, first.stdout);
    assert.equal(updated[1], 'patch');
    const [patchBytes, fullBytes] = [Number(updated[2]), Number(updated[3])];
    t.diagnostic(
      `sea-app executable ${readFileSync(join(release('1.1.0'), 'bin', 'sea-app')).length} bytes; ` +
        `patch 1.0.0 → 1.1.0 ${patchBytes} bytes vs full archive ${fullBytes} bytes (${((100 * patchBytes) / fullBytes).toPrecision(2)}%)`,
    );
    assert.ok(patchBytes < 1_000_000, `a patch of at most a few hundred KB, got ${patchBytes}`);
    await until('1.1.0 confirmed after the restart', async () => {
      const s = await state();
      return s.current === '1.1.0' && s.trial === null && /sea-app 1\.1\.0 running/.test(await appLog())
        ? true
        : undefined;
    });
    const again = spawnSync(entry, ['--status', '--no-update'], { encoding: 'utf8', env });
    assert.equal(again.stdout.split('\n')[0], 'sea-app 1.1.0 running', again.stderr);
    assert.match(again.stdout, /^installed versions: 1\.0\.0, 1\.1\.0$/m, 'the new code of 1.1.0 runs');

    // A broken 1.2.0: it crashes at start, the launcher rolls it back, and 1.1.0 runs on.
    await buildSeaApp({
      version: '1.2.0',
      root: rootJson,
      out: release('1.2.0'),
      features: ['status'],
      crash: true,
    });
    await cli(['release', 'add', release('1.2.0'), '--version', '1.2.0'], long);
    await cli(['publish', '--to', `dir:${pub}`], long);
    const second = spawnSync(entry, ['--update-now'], { encoding: 'utf8', env, timeout: 300_000 });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /updated to 1\.2\.0 via patch/);
    const rolledBack = await until('1.2.0 rolled back', async () => {
      const s = await state();
      return s.failed.some((f) => f.version === '1.2.0') && s.trial === null ? s : undefined;
    });
    assert.equal(rolledBack.current, '1.1.0');
    const log = await until('1.1.0 running again after the rollback', async () => {
      const text = await appLog();
      const after = text.slice(text.lastIndexOf('sea-app 1.2.0 running'));
      return /sea-app 1\.1\.0 running/.test(after) ? text : undefined;
    });
    assert.match(log, /sea-app 1\.2\.0 running/, 'the broken release did start, and crashed');
    const third = spawnSync(entry, [], { encoding: 'utf8', env });
    assert.equal(third.status, 0, third.stderr);
    assert.match(third.stdout, /^sea-app 1\.1\.0 running$/m);
    assert.match(third.stdout, /^up to date$/m, 'the failed 1.2.0 is not offered again');
  });
});
