/**
 * The stateless CI flow through the real CLI: a runner with nothing but two locations — a private one holding the
 * config and keys, a public one holding what clients read — pulls, adds a release and publishes (with --prune).
 */
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyRepository } from '../../src/repo/verify.js';
import { makeBundle, tempDir, treeSnapshot } from './files.js';
import { cli } from './run-cli.js';

describe('notsotuf pull (real process)', () => {
  test('pull --from --private-from into an empty directory, release add (patched), publish --prune', async () => {
    const root = await tempDir();
    // The maintainer's machine: first release, published; config and keys put in the private location.
    const origin = join(root, 'origin');
    await mkdir(origin);
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd: origin });
    await cli(['release', 'add', await makeBundle(join(root, 'b1'), '1.0.0'), '--version', '1.0.0'], {
      cwd: origin,
    });
    const pub = join(root, 'public');
    await cli(['publish', '--to', `dir:${pub}`], { cwd: origin });
    const priv = join(root, 'private');
    await mkdir(priv);
    await cp(join(origin, 'notsotuf.json'), join(priv, 'notsotuf.json'));
    await cp(join(origin, 'keystore'), join(priv, 'keystore'), { recursive: true });

    // The CI runner: an empty directory.
    const ci = join(root, 'ci');
    await mkdir(ci);
    const pulled = (
      await cli(['pull', '--from', `dir:${pub}`, '--private-from', `dir:${priv}`, '--json'], { cwd: ci })
    ).json() as { ok: boolean; privateFiles: string[]; targets: string[]; trust: string; repoDir: string };
    assert.equal(pulled.ok, true);
    assert.ok(pulled.privateFiles.includes('notsotuf.json'));
    assert.ok(pulled.privateFiles.some((f) => f.startsWith('keystore/')));
    assert.equal(pulled.trust, 'first-use');
    assert.equal(pulled.repoDir, join(ci, 'repository'));
    assert.equal(pulled.targets.length, 1);
    for (const key of await readdir(join(ci, 'keystore'))) {
      assert.equal((await stat(join(ci, 'keystore', key))).mode & 0o777, 0o600, `${key} is owner-only`);
    }

    await cli(['release', 'add', await makeBundle(join(root, 'b2'), '1.1.0'), '--version', '1.1.0'], {
      cwd: ci,
    });
    const published = (
      await cli(['publish', '--to', `dir:${pub}`, '--prune', '--grace', '1d', '--json'], { cwd: ci })
    ).json() as { uploaded: string[]; pruned: string[] };
    assert.ok(
      published.uploaded.some((k) => k.endsWith('demo_app-1.1.0.patch')),
      'a patch from the pulled 1.0.0',
    );
    assert.deepEqual(published.pruned, []);
    const report = await verifyRepository(pub);
    assert.ok(report.ok, JSON.stringify(report.problems));
    assert.equal(report.targetsChecked, 3);

    // A runner whose directory holds a different key file: the private pull refuses and writes nothing.
    const other = join(root, 'other');
    await mkdir(join(other, 'keystore'), { recursive: true });
    const firstKey = (await readdir(join(priv, 'keystore')))[0]!;
    await writeFile(join(other, 'keystore', firstKey), 'a different key');
    const beforeTree = await treeSnapshot(other);
    const refused = await cli(
      ['pull', '--from', `dir:${pub}`, '--private-from', `dir:${priv}`, '--json'],
      { cwd: other },
      1,
    );
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'PULL_CONFLICT');
    assert.deepEqual(await treeSnapshot(other), beforeTree);

    const badGrace = await cli(
      ['publish', '--to', `dir:${pub}`, '--prune', '--grace', 'soon'],
      { cwd: ci },
      1,
    );
    assert.match(badGrace.stderr, /--grace/);
  });
});
