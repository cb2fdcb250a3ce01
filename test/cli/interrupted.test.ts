/**
 * A publisher command killed midway (SIGKILL: no cleanup runs) leaves the signed repository exactly as it was;
 * the next command sweeps what the killed one left behind and succeeds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyRepository } from '../../src/repo/verify.js';
import { makeBundle, tempDir, treeSnapshot } from './files.js';
import { CLI_PATH, cli } from './run-cli.js';

const visible = (names: string[]) => names.filter((n) => !n.startsWith('.')).sort();

describe('an interrupted publisher command (real process, SIGKILL)', () => {
  test('release add killed while diffing: metadata byte for byte unchanged, no new target; a re-run completes', async () => {
    const cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    const first = await makeBundle(join(cwd, 'b1'), '1.0.0');
    const blob = randomBytes(16 << 20);
    await writeFile(join(first, 'blob.bin'), blob);
    await cli(['release', 'add', first, '--version', '1.0.0'], { cwd });
    const repo = join(cwd, 'repository');
    const metadataBefore = await treeSnapshot(join(repo, 'metadata'));
    const targetsBefore = visible(await readdir(join(repo, 'targets')));

    const second = await makeBundle(join(cwd, 'b2'), '1.1.0');
    // Mostly the same bytes, so a patch is made (the diff is the long step).
    blob.fill(7, 1 << 20, 2 << 20);
    await writeFile(join(second, 'blob.bin'), blob);
    const child = spawn(process.execPath, [CLI_PATH, 'release', 'add', second, '--version', '1.1.0'], {
      cwd,
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
    // Kill it once its diff work directory exists: past archiving, before anything is signed.
    let seen = false;
    for (let i = 0; i < 4000 && !seen; i++) {
      seen = (await readdir(repo)).some((n) => n.startsWith('.notsotuf-work-'));
      if (!seen) await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', 'the command was killed before it finished');
    assert.ok(seen, 'it was killed while diffing');

    assert.deepEqual(await treeSnapshot(join(repo, 'metadata')), metadataBefore, 'metadata unchanged');
    assert.deepEqual(visible(await readdir(join(repo, 'targets'))), targetsBefore, 'no new target');
    assert.ok((await verifyRepository(repo)).ok);

    // The next command takes over the dead process's lock, sweeps its leftovers and completes.
    await cli(['release', 'add', second, '--version', '1.1.0'], { cwd, timeoutMs: 180_000 });
    const left = [
      ...(await readdir(repo)).filter((n) => n.startsWith('.notsotuf-work-')),
      ...(await readdir(join(repo, 'targets'))).filter((n) => n.endsWith('.tmp')),
      ...(await readdir(join(repo, 'metadata'))).filter((n) => n.endsWith('.tmp')),
    ];
    assert.deepEqual(left, [], 'nothing of the killed command is left');
    const report = await verifyRepository(repo);
    assert.ok(report.ok, JSON.stringify(report.problems));
    assert.equal(report.targetsChecked, 3);
  });
});
