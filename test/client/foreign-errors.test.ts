/**
 * Foreign errors that reach the Client: a real permission error is IO_ERROR with its errno and the permissions
 * hint; a programming error (a TypeError) is INTERNAL_ERROR that says it is a bug, not IO_ERROR with a "disk
 * full?" hint as before.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/client.js';
import { isNotsotufError, type NotsotufError } from '../../src/core/errors.js';
import { appFiles, type PublishedRepo, servedRepo } from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

const DIST_CLIENT = new URL('../../dist/client/index.js', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

// Runs checkForUpdates() in a child on the built client. As root, which ignores permissions, the child runs as
// `nobody`, so that a read-only directory refuses it with a real EACCES.
const CHILD = `
const { Client } = await import(process.env.DIST_CLIENT);
const client = new Client(JSON.parse(process.env.CLIENT_OPTIONS));
const emitted = [];
client.on('error', (e) => emitted.push(e.code));
try {
  await client.checkForUpdates();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ...e.toJSON(), emitted }));
}`;

describe('foreign errors reaching the Client', {
  skip: process.platform === 'win32' && 'POSIX permissions',
}, () => {
  test('a read-only parent of cacheDir: IO_ERROR, errno EACCES, the permissions hint', async () => {
    assert.ok(existsSync(DIST_CLIENT), 'run `npm run build` first');
    const dir = await mkdtemp(join(tmpdir(), 'notsotuf-eacces-'));
    try {
      await chmod(dir, 0o755); // `nobody` may enter it
      const readOnly = join(dir, 'read-only');
      await mkdir(readOnly, { mode: 0o555 });
      await chmod(readOnly, 0o555);
      const options = {
        appName: 'app',
        currentVersion: '1.0.0',
        installDir: dir,
        cacheDir: join(readOnly, 'cache'),
        // Never contacted: the cache is made first.
        metadataUrl: 'http://127.0.0.1:9/metadata/',
        targetsUrl: 'http://127.0.0.1:9/targets/',
        trustedRoot: join(dir, 'root.json'),
      };
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, DIST_CLIENT, CLIENT_OPTIONS: JSON.stringify(options) },
        ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      assert.equal(child.status, 0, child.stderr);
      const error = JSON.parse(child.stdout) as {
        code: string;
        hint: string;
        path: string;
        details: Record<string, unknown>;
        emitted: string[];
      };
      assert.equal(error.code, 'IO_ERROR', child.stdout);
      assert.equal(error.details['errno'], 'EACCES');
      assert.equal(error.path, join(readOnly, 'cache'));
      assert.match(error.hint, /Permission denied/);
      assert.deepEqual(error.emitted, ['IO_ERROR'], "the same error is the 'error' event");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a bug during an operation', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;
  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-client-bug-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0') },
    ]);
  });
  after(async () => {
    await served?.close();
    await cleanup();
  });

  test('a TypeError is INTERNAL_ERROR: the message says it is a bug, the TypeError is the cause', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'getTime')");
    const client = new Client({
      appName: 'app',
      currentVersion: '1.0.0',
      installDir: work,
      cacheDir: join(work, 'cache'),
      metadataUrl: `${served.server.url}/metadata/`,
      targetsUrl: `${served.server.url}/targets/`,
      trustedRoot: served.trustedRoot,
      // Called while the update is planned, after the metadata verified: stands in for a bug in that code.
      now: () => {
        throw bug;
      },
    });
    const emitted: NotsotufError[] = [];
    client.on('error', (e) => emitted.push(e));
    await assert.rejects(client.checkForUpdates(), (err: unknown) => {
      assert.ok(isNotsotufError(err, 'INTERNAL_ERROR'), `got ${String(err)}`);
      assert.match(err.message, /bug in notsotuf; please report it/);
      assert.match(err.hint ?? '', /report/);
      assert.doesNotMatch(err.hint ?? '', /disk/);
      assert.equal(err.cause, bug);
      assert.deepEqual(emitted, [err]);
      return true;
    });
  });
});
