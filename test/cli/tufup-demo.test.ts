/** The CLI on a repository made by the real tufup 0.10, in place; and `scripts/demo.mjs`. */
import assert from 'node:assert/strict';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { copyTufupFixture, readJson, TUFUP_FIXTURE, tempDir, treeSnapshot } from './files.js';
import { assertBuilt, assertExit, cli, PROJECT_ROOT, runNode } from './run-cli.js';

interface StatusJson {
  ok: boolean;
  appName: string;
  consistentSnapshot: boolean;
  roles: { role: string; version: number; validSignatures: number; threshold: number }[];
  releases: { app: string; version: string; required: boolean }[];
}
interface VerifyJson {
  ok: boolean;
  rootVersion: number;
  targetsVersion: number;
  targetsChecked: number;
}

describe('a tufup 0.10 repository in place', { timeout: 150_000 }, () => {
  let copy: string;
  let config: string;
  let elsewhere: string;
  let fixtureBefore: Record<string, string>;

  before(async () => {
    fixtureBefore = await treeSnapshot(TUFUP_FIXTURE);
    copy = await copyTufupFixture();
    config = join(copy, '.tufup-repo-config');
    elsewhere = await tempDir(); // run from another directory: paths resolve from the config
  });

  test('status --config shows targets v7 and the four releases', async () => {
    const r = await cli(['status', '--config', config], { cwd: elsewhere });
    assert.match(r.stdout, /^targets\s+v7\b/m);
    assert.match(r.stdout, /consistent snapshots: no/);
    const status = (
      await cli(['status', '--json', '--config', config], { cwd: elsewhere })
    ).json<StatusJson>();
    assert.equal(status.appName, 'example_app');
    assert.equal(status.consistentSnapshot, false);
    assert.deepEqual(Object.fromEntries(status.roles.map((x) => [x.role, x.version])), {
      root: 3,
      targets: 7,
      snapshot: 7,
      timestamp: 7,
    });
    for (const role of status.roles) assert.ok(role.validSignatures >= role.threshold, role.role);
    assert.deepEqual(
      status.releases.map((x) => `${x.version}${x.required ? '!' : ''}`),
      ['1.0', '2.0!', '3.0rc1', '3.0'],
    );
    // Run from its directory, the CLI finds .tufup-repo-config by itself.
    const here = (await cli(['status', '--json'], { cwd: copy })).json<StatusJson>();
    assert.equal(here.appName, 'example_app');
  });

  test('verify --config: every target of the tufup repository verifies', async () => {
    const r = await cli(['verify', '--config', config], { cwd: elsewhere });
    assert.match(r.stdout, /^ok: root v3, targets v7, 7 target\(s\) verified/);
  });

  test('release add with a patch tufup clients cannot apply: exit 1, TUFUP_INCOMPATIBLE, nothing written', async () => {
    const before = await treeSnapshot(copy);
    const r = await cli(
      ['release', 'add', join(copy, 'bundles', '3.0'), '--version', '4.0', '--patch-codec', 'notsotuf'],
      { cwd: copy },
      1,
    );
    assert.match(r.stderr, /error TUFUP_INCOMPATIBLE: .*tufup clients cannot apply/);
    assert.match(r.stderr, /hint: .*--no-tufup-clients/);
    assert.deepEqual(await treeSnapshot(copy), before);
  });

  test('release add 4.0 with tufup keys, then verify', async () => {
    const r = await cli(
      ['release', 'add', join(copy, 'bundles', '3.0'), '--version', '4.0', '--config', config],
      {
        cwd: elsewhere,
      },
    );
    assert.match(r.stdout, /example_app 4\.0: example_app-4\.0\.tar\.gz/);
    assert.match(r.stdout, /targets v8, snapshot v8, timestamp v8/);
    // tufup's layout: plain target names, unversioned metadata.
    await access(join(copy, 'repository', 'targets', 'example_app-4.0.tar.gz'));
    // tufup clients can only apply bsdiff4, so a tufup-layout repository gets a BSDIFF40 patch from 3.0.
    assert.match(r.stdout, /patch from 3\.0: example_app-4\.0\.patch .*bsdiff4/);
    const patch = await readFile(join(copy, 'repository', 'targets', 'example_app-4.0.patch'));
    assert.equal(patch.subarray(0, 8).toString('latin1'), 'BSDIFF40');
    assert.ok(!(await readdir(join(copy, 'repository', 'metadata'))).includes('8.targets.json'));
    const report = (
      await cli(['verify', '--json', '--config', config], { cwd: elsewhere })
    ).json<VerifyJson>();
    assert.deepEqual(
      [report.ok, report.rootVersion, report.targetsVersion, report.targetsChecked],
      [true, 3, 8, 9],
    );
    await cli(['verify', '--config', config], { cwd: elsewhere });
    const tufupConfig = await readJson(config);
    assert.equal(tufupConfig['notsotuf_config'], undefined, 'the config must stay in tufup shape');
    assert.equal(tufupConfig['app_name'], 'example_app');
  });

  test('release add --skip-patch warns on stderr; --no-tufup-clients allows the notsotuf codec', async () => {
    const bundle = join(copy, 'bundles', '3.0');
    const skipped = await cli(['release', 'add', bundle, '--version', '5.0', '--skip-patch'], { cwd: copy });
    assert.match(
      skipped.stderr,
      /^warning: example_app 5\.0 has no patch from 4\.0: tufup clients below 5\.0/m,
    );
    assert.doesNotMatch(skipped.stdout, /warning/);
    const json = (
      await cli(
        [
          'release',
          'add',
          bundle,
          '--version',
          '6.0',
          '--patch-codec',
          'notsotuf',
          '--no-tufup-clients',
          '--json',
        ],
        { cwd: copy },
      )
    ).json<{ ok: boolean; release: { patch: { codec: string }; warnings: string[] } }>();
    assert.equal(json.ok, true);
    assert.equal(json.release.patch.codec, 'notsotuf');
    assert.deepEqual(json.release.warnings, []);
  });

  test('the fixture itself is untouched', async () => {
    assert.deepEqual(await treeSnapshot(TUFUP_FIXTURE), fixtureBefore);
  });
});

describe('scripts/demo.mjs', () => {
  test('runs the built CLI end to end and prints "demo finished"', { timeout: 150_000 }, async () => {
    assertBuilt(); // the demo runs dist/cli/main.js
    const r = await runNode([join(PROJECT_ROOT, 'scripts', 'demo.mjs')], {
      cwd: PROJECT_ROOT,
      timeoutMs: 140_000,
    });
    assertExit(r, 0, 'node scripts/demo.mjs');
    assert.match(r.stdout, /demo finished/);
    assert.match(r.stdout, /notsotuf release add .* --version 1\.1\.0/);
  });
});
