import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyRepository } from '../../src/repo/verify.js';
import { makeBundle, tempDir } from './files.js';
import { CLI_PATH, cli } from './run-cli.js';

describe('notsotuf publish (real process)', () => {
  test('publishes to dir: with --json, then nothing is left to upload; a bad destination exits 1', async () => {
    const cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    await cli(['release', 'add', await makeBundle(join(cwd, 'b1'), '1.0.0'), '--version', '1.0.0'], { cwd });
    const dest = join(cwd, 'public');
    const first = await cli(['publish', '--to', `dir:${dest}`, '--json'], { cwd });
    const result = JSON.parse(first.stdout) as { ok: boolean; uploaded: string[]; destination: string };
    assert.equal(result.ok, true);
    assert.equal(result.destination, `dir:${dest}`);
    assert.equal(result.uploaded.at(-1), 'metadata/timestamp.json');
    assert.ok((await verifyRepository(dest)).ok);

    const again = await cli(['publish', '--to', `dir:${dest}`], { cwd });
    assert.match(again.stdout, /uploaded 0 file\(s\)/);

    const bad = await cli(['publish', '--to', 'ftp://example.com/x', '--json'], { cwd }, 1);
    assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'DESTINATION_INVALID');
  });

  test('a publisher killed mid-upload (SIGKILL): clients never saw a timestamp without its files; a re-run completes', async () => {
    const cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    for (const version of ['1.0.0', '1.1.0']) {
      const bundle = await makeBundle(join(cwd, `b-${version}`), version);
      // Incompressible bytes, so the archives take a moment to copy.
      await writeFile(join(bundle, 'blob.bin'), randomBytes(24 << 20));
      await cli(['release', 'add', bundle, '--version', version, '--skip-patch'], { cwd });
    }
    const dest = join(cwd, 'public');
    const child = spawn(process.execPath, [CLI_PATH, 'publish', '--to', `dir:${dest}`], {
      cwd,
      stdio: 'ignore',
    });
    // Kill it as soon as the first target is in place (timestamp.json can only come after the metadata).
    for (let i = 0; i < 2000; i++) {
      const targets = await readdir(join(dest, 'targets')).catch(() => []);
      if (targets.some((t) => !t.startsWith('.'))) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    if (!existsSync(join(dest, 'metadata', 'timestamp.json'))) {
      // What a client sees now: no repository yet, not a broken one.
      assert.equal(
        existsSync(join(dest, 'metadata', 'snapshot.json')),
        false,
        'no snapshot before its targets',
      );
    }
    // The re-run takes over the dead publisher's lock at once (same host, process gone) and finishes the job.
    const rerun = await cli(['publish', '--to', `dir:${dest}`, '--json'], { cwd });
    assert.equal((JSON.parse(rerun.stdout) as { ok: boolean }).ok, true);
    const report = await verifyRepository(dest);
    assert.ok(report.ok, JSON.stringify(report.problems));
    assert.equal(report.targetsChecked, 2);
    assert.equal(existsSync(join(dest, '.notsotuf-publish.lock')), false);
  });
});
