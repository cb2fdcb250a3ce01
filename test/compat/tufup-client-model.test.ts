/**
 * tufup 0.10 clients must read what notsotuf publishes as intended. Part a checks the TypeScript model of tufup's
 * client rules against the decisions the real tufup 0.10 client made on the fixture (EXPECTED.md). Part b builds
 * repositories with notsotuf's publisher and checks, through that model, how a tufup client reads every target
 * and that its patch updates rebuild the published tars.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { createGzip } from 'node:zlib';
import { gunzipToFile } from '../../src/archive/gunzip-file.js';
import { parseTargetName } from '../../src/core/target-name.js';
import { appFiles, publish, publishedArchive, type ReleaseSpec } from '../helpers/client-fixtures.js';
import {
  createTestRepo,
  makeTempDir,
  readSigned,
  type TestRepo,
  TUFUP_FIXTURE,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import {
  type TargetsMap,
  type TufupCheckOptions,
  TufupModelError,
  tufupCheckForUpdates,
  tufupPatchAndVerify,
  tufupSeesRequired,
  tufupTargetMeta,
} from './tufup-client-model.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let workN = 0;
const workDir = async (): Promise<string> => {
  const dir = join(tmp.dir, `work-${workN++}`);
  await mkdir(dir, { recursive: true });
  return dir;
};
before(async () => {
  tmp = await makeTempDir('notsotuf-tufup-model-');
});
after(() => tmp.cleanup());

async function targetsOf(metadataDir: string): Promise<TargetsMap> {
  return (await readSigned(join(metadataDir, 'targets.json')))['targets'] as TargetsMap;
}

/** Rejects with a TufupModelError for `python`, its message matching `message`. */
async function rejectsAs(promise: Promise<unknown>, python: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TufupModelError, `expected a TufupModelError, got ${String(err)}`);
    assert.equal(err.python, python, err.message);
    assert.match(err.message, message);
    return true;
  });
}

type Decision = ReturnType<typeof tufupCheckForUpdates>;
/** `none`, `full <archive>` or `patch <archive> <- <patches in application order>`. */
const summary = (d: Decision): string =>
  d.kind === 'none'
    ? 'none'
    : `${d.kind} ${d.archive.path}${d.kind === 'patch' ? ` <- ${d.patches.map((p) => p.path).join(' ')}` : ''}`;

/** Runs tufup's patch path for a patch decision, finding each patch file with `locate`. */
async function patchUpdate(d: Decision, base: string, locate: (name: string) => string | Promise<string>) {
  assert.equal(d.kind, 'patch');
  const patches = d.kind === 'patch' ? d.patches : [];
  return tufupPatchAndVerify({
    currentArchivePath: base,
    patchPaths: await Promise.all(patches.map((p) => locate(p.path))),
    expected: patches.at(-1)?.meta.customInternal,
    workDir: await workDir(),
  });
}

describe('a. the model reproduces the real tufup 0.10 client on the fixture (EXPECTED.md)', () => {
  const targetsDir = join(TUFUP_FIXTURE, 'repository', 'targets');
  const file = (name: string) => join(targetsDir, `example_app-${name}`);
  let targets: TargetsMap;
  before(async () => {
    targets = await targetsOf(join(TUFUP_FIXTURE, 'repository', 'metadata'));
  });

  // One row per numbered case of EXPECTED.md. `cache`: the client's cached archive: the published one, none, or
  // (a restarted client) the one the case named rebuilt. `patches` in application order; null: a full update (or
  // none when `to` is null too). `tar`: the sha256 prefix EXPECTED.md gives for the rebuilt tar.
  type Row = [
    n: number,
    from: string,
    cache: 'published' | 'none' | number,
    options: { pre?: 'rc'; ignoreRequired?: true; patch?: false },
    to: string | null,
    patches: readonly string[] | null,
    patchBytes?: number,
    tar?: string,
  ];
  const [T2, T3] = ['797bc02b26cdc9d8', '31b61e6a99fdd0d2'];
  const CASES: readonly Row[] = [
    [1, '1.0', 'published', {}, '2.0', ['2.0'], 2973, T2],
    [2, '2.0', 1, {}, '3.0', ['3.0rc1', '3.0'], 6489, T3],
    [3, '3.0', 2, {}, null, null],
    [4, '1.0', 'none', {}, '2.0', null],
    [5, '1.0', 'published', { pre: 'rc' }, '2.0', ['2.0'], 2973, T2],
    [6, '2.0', 5, { pre: 'rc' }, '3.0', ['3.0rc1', '3.0'], 6489, T3],
    [7, '1.0', 'published', { ignoreRequired: true }, '3.0', ['2.0', '3.0rc1', '3.0'], 9462, T3],
    [8, '1.0', 'published', { patch: false }, '2.0', null],
    // Case 9 differs from case 1 only in the trusted root the client starts from, which the model does not see.
    [9, '1.0', 'published', {}, '2.0', ['2.0'], 2973, T2],
    [10, '2.0', 'published', {}, '3.0', ['3.0rc1', '3.0'], 6489, T3],
    [11, '2.0', 'none', {}, '3.0', null],
    [12, '3.0rc1', 'published', {}, '3.0', ['3.0'], 2885, T3],
    [13, '3.0', 'published', {}, null, null],
  ];
  // The archive each patch update left in the target dir: tufup gzips the rebuilt tar anew.
  const rebuilt = new Map<number, string>();

  for (const [n, from, cache, options, to, patches, patchBytes, tar] of CASES) {
    const kind = patches ? 'patch' : to ? 'full' : 'none';
    test(`case ${n}: ${from} -> ${to ?? 'no update'} (${kind})`, async () => {
      const decision = tufupCheckForUpdates(targets, {
        appName: 'example_app',
        currentVersion: from,
        ...options,
        currentArchiveCached: cache !== 'none',
      });
      const expected = `${kind} example_app-${to}.tar.gz`;
      const via = (patches ?? []).map((v) => `example_app-${v}.patch`).join(' ');
      assert.equal(
        summary(decision),
        kind === 'none' ? 'none' : kind === 'full' ? expected : `${expected} <- ${via}`,
      );
      if (decision.kind !== 'patch') return;
      assert.equal(decision.totalPatchSize, patchBytes);
      const base = typeof cache === 'number' ? rebuilt.get(cache) : file(`${from}.tar.gz`);
      assert.ok(base, `case ${cache} ran first and left its archive`);
      const result = await patchUpdate(decision, base, (name) => join(targetsDir, name));
      assert.ok(result.hash.startsWith(tar!), result.hash);
      const dir = await workDir();
      const published = await gunzipToFile(file(`${to}.tar.gz`), join(dir, 'published.tar'));
      assert.deepEqual({ size: result.size, sha256: result.hash }, published);
      const archive = join(dir, `example_app-${to}.tar.gz`);
      await pipeline(createReadStream(result.tarPath), createGzip(), createWriteStream(archive));
      rebuilt.set(n, archive);
    });
  }

  test('custom: {user, tufup} is split; any other key set is flat (the field bug of custom.notsotuf)', () => {
    const current = tufupTargetMeta('example_app-2.0.tar.gz', targets['example_app-2.0.tar.gz']!.custom);
    assert.deepEqual(current.customInternal, { required: true });
    assert.deepEqual(current.user, {
      changes: ['new settings file format (schema 2)', 'settings are migrated on first start'],
    });
    const flat = { changes: ['x'], required: true };
    assert.equal(tufupTargetMeta('a-1.tar.gz', flat).user, flat);
    assert.equal(tufupSeesRequired(tufupTargetMeta('a-1.tar.gz', flat)), true);
    const three = { user: { changes: ['x'] }, tufup: { required: true }, notsotuf: { tar_size: 1 } };
    assert.equal(tufupTargetMeta('a-1.tar.gz', three).customInternal, three);
    assert.equal(tufupSeesRequired(tufupTargetMeta('a-1.tar.gz', three)), false);
    const none = tufupTargetMeta('a-1.tar.gz', null);
    assert.deepEqual([none.user, none.customInternal], [{}, {}]);
    assert.equal(tufupTargetMeta('my-app-2-1.0.tar.gz', null).name, 'my-app-2');
    assert.equal(tufupTargetMeta('app-1.0.zip', null).name, null);
    assert.throws(
      () => tufupSeesRequired(tufupTargetMeta('a-1.tar.gz', { user: null, tufup: [1] })),
      /AttributeError/,
    );
  });

  test('required in flat custom is seen; inside a three-key custom it is not (1.0 then skips 2.0)', () => {
    const withCustom = (custom: unknown): TargetsMap => ({
      ...targets,
      'example_app-2.0.tar.gz': { ...targets['example_app-2.0.tar.gz']!, custom },
    });
    const from1 = { appName: 'example_app', currentVersion: '1.0', currentArchiveCached: true };
    const flat = tufupCheckForUpdates(withCustom({ changes: ['schema 2'], required: true }), from1);
    assert.equal(summary(flat), 'patch example_app-2.0.tar.gz <- example_app-2.0.patch');
    const three = { user: null, tufup: { required: true }, notsotuf: { tar_size: 71680 } };
    const skipped =
      'patch example_app-3.0.tar.gz <- example_app-2.0.patch example_app-3.0rc1.patch example_app-3.0.patch';
    assert.equal(summary(tufupCheckForUpdates(withCustom(three), from1)), skipped);
  });

  test("a patch whose custom has a third key aborts with KeyError 'tar_hash_algorithm', after patching", async () => {
    const custom = targets['example_app-2.0.patch']!.custom as { user: null; tufup: { tar_hash: string } };
    const three = { ...custom, notsotuf: { patch: 'bsdiff4' } };
    const decision = tufupCheckForUpdates(
      { ...targets, 'example_app-2.0.patch': { ...targets['example_app-2.0.patch']!, custom: three } },
      { appName: 'example_app', currentVersion: '1.0', currentArchiveCached: true },
    );
    const locate = (name: string) => join(targetsDir, name);
    await rejectsAs(patchUpdate(decision, file('1.0.tar.gz'), locate), 'KeyError', /'tar_hash_algorithm'/);
    // The same patch with its own custom_internal verifies: only the shape made it fail.
    const run = async (expected: unknown, patch = file('2.0.patch')) =>
      tufupPatchAndVerify({
        currentArchivePath: file('1.0.tar.gz'),
        patchPaths: [patch],
        expected,
        workDir: await workDir(),
      });
    await run(custom.tufup);
    // tufup compares its lowercase hexdigest as a string: the right hash in uppercase is a mismatch.
    const upper = { ...custom.tufup, tar_hash: custom.tufup.tar_hash.toUpperCase() };
    await rejectsAs(run(upper), 'Exception', /verification failed: tar_hash mismatch/);
    const notBsdiff = join(await workDir(), 'x.patch');
    await writeFile(notBsdiff, 'BSDIFX40 and more bytes than a header needs');
    await rejectsAs(run(custom.tufup, notBsdiff), 'ValueError', /magic/);
    // tufup patches before it reads the expected values: a bad patch fails first even with the three-key shape.
    await rejectsAs(run(three, notBsdiff), 'ValueError', /magic/);
  });

  test('invalid versions, failed patches, and the 0.8 size ratio', () => {
    const opts = { appName: 'example_app', currentVersion: '1.0', currentArchiveCached: true };
    const extra = (name: string) => ({ ...targets, [name]: { length: 1, custom: null } });
    assert.throws(() => tufupCheckForUpdates(extra('example_app-latest.tar.gz'), opts), /TypeError/);
    assert.equal(tufupCheckForUpdates(extra('other_app-latest.tar.gz'), opts).kind, 'patch');
    assert.throws(() => tufupCheckForUpdates(targets, { ...opts, currentVersion: 'x' }), /TypeError/);
    assert.equal(
      tufupCheckForUpdates(targets, { ...opts, failedPatches: ['example_app-2.0.patch'] }).kind,
      'full',
    );
    // 2.0's archive is 34473 bytes: 27578 is just under 0.8 of it, 27579 just over.
    const sized = (length: number) => ({
      ...targets,
      'example_app-2.0.patch': { ...targets['example_app-2.0.patch']!, length },
    });
    assert.equal(tufupCheckForUpdates(sized(27578), opts).kind, 'patch');
    assert.equal(tufupCheckForUpdates(sized(27579), opts).kind, 'full');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// b. What notsotuf's publisher writes, read by the model.

/** 96 KiB of incompressible bytes shared by every release, so patches are small next to archives. */
const noise = Buffer.concat(
  Array.from({ length: 3072 }, (_, i) => createHash('sha256').update(`${i}`).digest()),
);
const files = (version: string) => appFiles(version, { 'lib/noise.bin': noise });

const APP_RELEASES: readonly ReleaseSpec[] = [
  { version: '1.0.0', files: files('1.0.0'), userMeta: { changes: ['first release'] } },
  { version: '1.1.0', files: files('1.1.0'), required: true },
  { version: '1.2.0rc1', files: files('1.2.0rc1'), userMeta: { changes: ['candidate'], build: 7 } },
  { version: '1.2.0', files: files('1.2.0'), userMeta: { changes: ['final'], notes: { lang: 'en' } } },
];
const PLATFORM = 'linux-x64';
const PLATFORM_RELEASES: readonly ReleaseSpec[] = [
  { version: '1.0.0', files: files('1.0.0-linux'), userMeta: { platform: PLATFORM } },
  { version: '1.1.0', files: files('1.1.0-linux') },
];
const SPECS: Record<string, readonly ReleaseSpec[]> = {
  app: APP_RELEASES,
  [`app-${PLATFORM}`]: PLATFORM_RELEASES,
};

// Expected tufup decisions with the current archive cached: [app, from, options, summary of the decision].
const LINUX = `app-${PLATFORM}`;
const UPDATES: readonly [string, string, Pick<TufupCheckOptions, 'pre' | 'ignoreRequired'>, string][] = [
  ['app', '1.0.0', {}, 'patch app-1.1.0.tar.gz <- app-1.1.0.patch'], // 1.1.0 is required
  [
    'app',
    '1.0.0',
    { ignoreRequired: true },
    'patch app-1.2.0.tar.gz <- app-1.1.0.patch app-1.2.0rc1.patch app-1.2.0.patch',
  ],
  ['app', '1.1.0', {}, 'patch app-1.2.0.tar.gz <- app-1.2.0rc1.patch app-1.2.0.patch'],
  ['app', '1.1.0', { pre: 'rc' }, 'patch app-1.2.0.tar.gz <- app-1.2.0rc1.patch app-1.2.0.patch'],
  ['app', '1.2.0rc1', {}, 'patch app-1.2.0.tar.gz <- app-1.2.0.patch'],
  ['app', '1.2.0', {}, 'none'],
  [LINUX, '1.0.0', {}, `patch ${LINUX}-1.1.0.tar.gz <- ${LINUX}-1.1.0.patch`],
  [LINUX, '1.1.0', {}, 'none'],
];

async function buildRepo(name: string, consistentSnapshot: boolean, patchCodec?: string): Promise<TestRepo> {
  const work = join(tmp.dir, name);
  const r = await createTestRepo(join(work, 'publisher'), { consistentSnapshot });
  const repo = await r.open();
  await publish(repo, work, patchCodec ? APP_RELEASES.map((s) => ({ ...s, patchCodec })) : APP_RELEASES);
  for (const s of PLATFORM_RELEASES) {
    await repo.addRelease({
      bundleDir: await writeBundle(join(work, `bundle-${PLATFORM}-${s.version}`), s.files),
      version: s.version,
      platform: PLATFORM,
      ...(s.userMeta === undefined ? {} : { userMeta: s.userMeta }),
      ...(patchCodec ? { patchCodec } : {}),
    });
  }
  return r;
}

for (const layout of [
  { label: 'tufup layout (no consistent snapshots, bsdiff4 by default)', consistent: false },
  { label: 'consistent snapshots with patchCodec bsdiff4', consistent: true, codec: 'bsdiff4' },
]) {
  describe(`b. notsotuf's output read by tufup: ${layout.label}`, () => {
    let r: TestRepo;
    let targets: TargetsMap;
    /** sha256 and size of each archive's tar, by archive name. */
    const tars = new Map<string, { size: number; sha256: string }>();
    before(async () => {
      r = await buildRepo(layout.consistent ? 'consistent' : 'tufup', layout.consistent, layout.codec);
      targets = await targetsOf(r.metadataDir);
      const dir = await workDir();
      for (const name of Object.keys(targets).filter((n) => n.endsWith('.tar.gz'))) {
        tars.set(name, await gunzipToFile(await publishedArchive(r, name), join(dir, `${name}.tar`)));
      }
    });

    test('every target entry: name, version, user and internal custom, required, patch tar facts', async () => {
      const expectedNames = Object.entries(SPECS).flatMap(([app, specs]) =>
        specs.flatMap((s, i) => [
          `${app}-${s.version}.tar.gz`,
          ...(i > 0 ? [`${app}-${s.version}.patch`] : []),
        ]),
      );
      assert.deepEqual(Object.keys(targets).sort(), expectedNames.sort());
      const root = await readSigned(join(r.metadataDir, 'root.json'));
      assert.equal(root['consistent_snapshot'], layout.consistent);
      for (const [name, entry] of Object.entries(targets)) {
        const meta = tufupTargetMeta(name, entry.custom);
        const own = parseTargetName(name);
        assert.ok(own, name);
        assert.deepEqual(
          [meta.name, meta.version?.normalized, meta.suffix],
          [own.app, own.version.normalized, own.suffix],
        );
        const custom = entry.custom as { tufup: Record<string, unknown> };
        assert.deepEqual(meta.customInternal, custom.tufup, `${name}: custom_internal is custom.tufup`);
        const spec = SPECS[own.app]?.find((s) => s.version === own.version.normalized);
        assert.ok(spec, name);
        if (own.kind === 'archive') {
          assert.deepEqual(meta.user, spec.userMeta ?? null, name);
          assert.equal(tufupSeesRequired(meta), spec.required === true, `${name}: required`);
          continue;
        }
        assert.equal(meta.user, null, name);
        assert.equal(tufupSeesRequired(meta), false, name);
        assert.deepEqual(custom.tufup['notsotuf'], { patch: 'bsdiff4' }, `${name}: codec`);
        const tar = tars.get(`${own.app}-${own.version.normalized}.tar.gz`)!;
        const internal = meta.customInternal as Record<string, unknown>;
        assert.deepEqual(
          [internal['tar_size'], internal['tar_hash'], internal['tar_hash_algorithm']],
          [tar.size, tar.sha256, 'sha256'],
          `${name}: tar facts`,
        );
      }
    });

    test('updates from every older release patch to the tar that was published', async () => {
      for (const [app, specs] of Object.entries(SPECS)) {
        for (const s of specs)
          assert.ok(
            UPDATES.some(([a, from]) => a === app && from === s.version),
            s.version,
          );
      }
      for (const [app, from, options, expected] of UPDATES) {
        const check = { appName: app, currentVersion: from, ...options };
        const decision = tufupCheckForUpdates(targets, { ...check, currentArchiveCached: true });
        const label = `${app} ${from} ${JSON.stringify(options)}`;
        assert.equal(summary(decision), expected, label);
        if (decision.kind === 'none') continue;
        const uncached = tufupCheckForUpdates(targets, { ...check, currentArchiveCached: false });
        assert.equal(summary(uncached), `full ${decision.archive.path}`, label);
        const base = await publishedArchive(r, `${app}-${from}.tar.gz`);
        const result = await patchUpdate(decision, base, (name) => publishedArchive(r, name));
        assert.deepEqual({ size: result.size, sha256: result.hash }, tars.get(decision.archive.path), label);
      }
    });
  });
}

describe("b. notsotuf output tufup's patch path cannot use", () => {
  test('a patch made with the notsotuf codec is not BSDIFF40: the tufup client aborts (then goes full)', async () => {
    const work = join(tmp.dir, 'codec');
    const r = await createTestRepo(join(work, 'publisher'), { consistentSnapshot: true });
    await publish(await r.open(), work, [APP_RELEASES[0]!, { ...APP_RELEASES[2]!, patchCodec: 'notsotuf' }]);
    const targets = await targetsOf(r.metadataDir);
    const patch = 'app-1.2.0rc1.patch';
    assert.deepEqual((targets[patch]!.custom as { tufup: object }).tufup, {
      ...(tufupTargetMeta(patch, targets[patch]!.custom).customInternal as object),
      notsotuf: { patch: 'notsotuf' },
    });
    const opts = { appName: 'app', currentVersion: '1.0.0', pre: 'rc' as const, currentArchiveCached: true };
    const decision = tufupCheckForUpdates(targets, opts);
    assert.equal(summary(decision), `patch app-1.2.0rc1.tar.gz <- ${patch}`);
    const base = await publishedArchive(r, 'app-1.0.0.tar.gz');
    await rejectsAs(
      patchUpdate(decision, base, (n) => publishedArchive(r, n)),
      'ValueError',
      /incorrect magic/,
    );
    assert.equal(
      summary(tufupCheckForUpdates(targets, { ...opts, failedPatches: [patch] })),
      'full app-1.2.0rc1.tar.gz',
    );
  });

  test('a release removed from the middle leaves a patch tufup applies to the wrong tar', async () => {
    const work = join(tmp.dir, 'gap');
    const r = await createTestRepo(join(work, 'publisher'), { consistentSnapshot: false });
    const repo = await r.open();
    await publish(repo, work, [APP_RELEASES[0]!, { ...APP_RELEASES[1]!, required: false }, APP_RELEASES[3]!]);
    await repo.removeRelease('1.1.0');
    const targets = await targetsOf(r.metadataDir);
    const opts = { appName: 'app', currentVersion: '1.0.0', currentArchiveCached: true };
    const decision = tufupCheckForUpdates(targets, opts);
    // notsotuf's own client sees the gap and downloads the archive; tufup applies the 1.1.0 -> 1.2.0 patch to 1.0.0.
    assert.equal(summary(decision), 'patch app-1.2.0.tar.gz <- app-1.2.0.patch');
    const base = await publishedArchive(r, 'app-1.0.0.tar.gz');
    const update = patchUpdate(decision, base, (n) => publishedArchive(r, n));
    await rejectsAs(update, 'Exception', /verification failed: tar_(size|hash) mismatch/);
  });
});
