import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyRepository } from '../../src/repo/verify.js';
import { makeBundle, tempDir } from './files.js';
import { cli } from './run-cli.js';

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
});
