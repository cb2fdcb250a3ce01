import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  cachedArchiveFacts,
  failedPatchKey,
  type PlanInput,
  planUpdate,
} from '../../src/client/plan/plan-update.js';
import { type Channel, inChannel, selectRelease } from '../../src/client/plan/select-release.js';
import { buildArchiveCustom, buildPatchCustom } from '../../src/core/custom-metadata.js';
import { groupReleases, type Release, type TargetEntry } from '../../src/core/releases.js';
import { parseVersion } from '../../src/core/version.js';

const FIXTURE_TARGETS = new URL(
  '../fixtures/tufup-repo-v0.10/repository/metadata/targets.json',
  import.meta.url,
);

function fixtureReleases(): Release[] {
  const doc = JSON.parse(readFileSync(FIXTURE_TARGETS, 'utf8'));
  const entries: TargetEntry[] = Object.entries(
    doc.signed.targets as Record<
      string,
      { length: number; hashes: Record<string, string>; custom?: unknown }
    >,
  ).map(([name, t]) => ({ name, length: t.length, hashes: t.hashes, custom: t.custom }));
  return groupReleases(entries).get('example_app') ?? [];
}

const HASH = (n: number) => n.toString(16).padStart(64, '0');

/** A synthetic release list: [version, archive length | null, patch length | null, required?, codec?] rows. */
function releases(
  rows: readonly [string, number | null, number | null, boolean?, string?][],
  app = 'app',
): Release[] {
  const entries: TargetEntry[] = [];
  rows.forEach(([version, archive, patch, required = false, codec], i) => {
    if (archive !== null) {
      entries.push({
        name: `${app}-${version}.tar.gz`,
        length: archive,
        hashes: { sha256: HASH(i * 2 + 1) },
        custom: buildArchiveCustom({ required, tarSize: archive * 3, tarHash: HASH(1000 + i) }),
      });
    }
    if (patch !== null) {
      entries.push({
        name: `${app}-${version}.patch`,
        length: patch,
        hashes: { sha256: HASH(i * 2 + 2) },
        custom: buildPatchCustom({
          tarSize: archive ?? 1,
          tarHash: HASH(1000 + i),
          ...(codec ? { codec } : {}),
        }),
      });
    }
  });
  return groupReleases(entries).get(app) ?? [];
}

const KNOWN = new Set(['bsdiff4', 'notsotuf']);

function plan(
  list: readonly Release[],
  current: string,
  extra: Partial<Omit<PlanInput, 'releases' | 'current'>> = {},
) {
  const result = planUpdate({
    releases: list,
    current: parseVersion(current),
    channel: 'final',
    allowPatches: true,
    cachedArchive: 'verified',
    failedPatches: new Set(),
    knownCodecs: KNOWN,
    ...extra,
  });
  if (result.kind === 'none') return { to: null };
  const m = result.method;
  return m.kind === 'patch'
    ? { to: result.release.version.normalized, patches: m.patches.map((p) => p.name), bytes: m.bytes }
    : { to: result.release.version.normalized, full: m.archive.name, reason: m.reason, bytes: m.bytes };
}

describe('planUpdate on the tufup 0.10 fixture matches the decisions of the real tufup client (EXPECTED.md)', () => {
  const list = fixtureReleases();
  const P = (v: string) => `example_app-${v}.patch`;
  const cases: {
    name: string;
    current: string;
    extra?: Partial<PlanInput>;
    expected: Record<string, unknown>;
  }[] = [
    {
      name: 'case 1: 1.0 with cache, final → 2.0 (required) by patch',
      current: '1.0',
      expected: { to: '2.0', patches: [P('2.0')], bytes: 2973 },
    },
    {
      name: 'case 2/10: 2.0 with cache → 3.0 via 3.0rc1 and 3.0 patches',
      current: '2.0',
      expected: { to: '3.0', patches: [P('3.0rc1'), P('3.0')], bytes: 6489 },
    },
    { name: 'case 3/13: 3.0 → no update', current: '3.0', expected: { to: null } },
    {
      name: 'case 4: 1.0 without cache → full 2.0',
      current: '1.0',
      extra: { cachedArchive: 'missing' },
      expected: { to: '2.0', full: 'example_app-2.0.tar.gz', reason: 'no-cached-archive', bytes: 34473 },
    },
    {
      name: 'case 5: channel rc, 1.0 → 2.0 (required wins in every channel)',
      current: '1.0',
      extra: { channel: 'rc' },
      expected: { to: '2.0', patches: [P('2.0')], bytes: 2973 },
    },
    {
      name: 'case 6: channel rc, 2.0 → 3.0 (3.0 beats 3.0rc1)',
      current: '2.0',
      extra: { channel: 'rc' },
      expected: { to: '3.0', patches: [P('3.0rc1'), P('3.0')], bytes: 6489 },
    },
    {
      name: 'case 7: ignoreRequired, 1.0 → 3.0 through three patches',
      current: '1.0',
      extra: { ignoreRequired: true },
      expected: { to: '3.0', patches: [P('2.0'), P('3.0rc1'), P('3.0')], bytes: 9462 },
    },
    {
      name: 'case 8: patches disabled → full 2.0',
      current: '1.0',
      extra: { allowPatches: false },
      expected: { to: '2.0', full: 'example_app-2.0.tar.gz', reason: 'patches-disabled', bytes: 34473 },
    },
    {
      name: 'case 11: 2.0 without cache → full 3.0',
      current: '2.0',
      extra: { cachedArchive: 'missing' },
      expected: { to: '3.0', full: 'example_app-3.0.tar.gz', reason: 'no-cached-archive', bytes: 34812 },
    },
    {
      name: 'case 12: 3.0rc1 on channel final → 3.0 by one patch',
      current: '3.0rc1',
      expected: { to: '3.0', patches: [P('3.0')], bytes: 2885 },
    },
    {
      name: 'improvement: a cached archive that does not match the metadata → full',
      current: '2.0',
      extra: { cachedArchive: 'mismatch' },
      expected: {
        to: '3.0',
        full: 'example_app-3.0.tar.gz',
        reason: 'cached-archive-mismatch',
        bytes: 34812,
      },
    },
    {
      name: 'a cached archive the metadata cannot vouch for still patches (results are verified)',
      current: '1.0',
      extra: { cachedArchive: 'unverifiable' },
      expected: { to: '2.0', patches: [P('2.0')], bytes: 2973 },
    },
    {
      name: 'a patch that failed before (same hash) → full archive',
      current: '2.0',
      extra: {
        failedPatches: new Set([
          failedPatchKey({
            name: P('3.0'),
            sha256: 'c7e379cac6beeab2df1870124d6b431dfc2e09bb47a9d8ab07f6b630e9855876',
          }),
        ]),
      },
      expected: { to: '3.0', full: 'example_app-3.0.tar.gz', reason: 'patch-failed', bytes: 34812 },
    },
    {
      name: 'a failed marker for another hash of the same name does not count',
      current: '2.0',
      extra: { failedPatches: new Set([failedPatchKey({ name: P('3.0'), sha256: HASH(7) })]) },
      expected: { to: '3.0', patches: [P('3.0rc1'), P('3.0')], bytes: 6489 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(plan(list, c.current, c.extra), c.expected));
  }
});

describe('planUpdate on synthetic repositories', () => {
  const cases: {
    name: string;
    rows: [string, number | null, number | null, boolean?, string?][];
    current: string;
    extra?: Partial<PlanInput>;
    expected: Record<string, unknown>;
  }[] = [
    {
      name: 'a gap in the chain (2.0 has no patch) is found before downloading',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, null],
        ['3.0', 1000, 10],
      ],
      current: '1.0',
      expected: { to: '3.0', full: 'app-3.0.tar.gz', reason: 'chain-gap', bytes: 1000 },
    },
    {
      name: 'installed version unknown to the repository → chain gap',
      rows: [
        ['1.0', 1000, null],
        ['3.0', 1000, 10],
      ],
      current: '2.0',
      expected: { to: '3.0', full: 'app-3.0.tar.gz', reason: 'chain-gap', bytes: 1000 },
    },
    {
      name: 'patches over 0.8 × archive → full archive',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, 500],
        ['3.0', 1000, 301],
      ],
      current: '1.0',
      expected: { to: '3.0', full: 'app-3.0.tar.gz', reason: 'patches-too-large', bytes: 1000 },
    },
    {
      name: 'patches of exactly 0.8 × archive are still used',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, 500],
        ['3.0', 1000, 300],
      ],
      current: '1.0',
      expected: { to: '3.0', patches: ['app-2.0.patch', 'app-3.0.patch'], bytes: 800 },
    },
    {
      name: 'a patch in an unknown codec → full archive',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, 10, false, 'zucchini'],
      ],
      current: '1.0',
      expected: { to: '2.0', full: 'app-2.0.tar.gz', reason: 'patch-codec-unknown', bytes: 1000 },
    },
    {
      name: 'the notsotuf codec is applied when known',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, 10, false, 'notsotuf'],
      ],
      current: '1.0',
      expected: { to: '2.0', patches: ['app-2.0.patch'], bytes: 10 },
    },
    {
      name: 'a patch-only release (archive pruned) is a chain link but never a target',
      rows: [
        ['1.0', 1000, null],
        ['1.1', null, 10],
        ['1.2', 1000, 10],
      ],
      current: '1.0',
      expected: { to: '1.2', patches: ['app-1.1.patch', 'app-1.2.patch'], bytes: 20 },
    },
    {
      name: 'semver pre-releases: final channel skips 2.0.0-beta.1',
      rows: [
        ['1.0.0', 1000, null],
        ['1.1.0', 1000, 10],
        ['2.0.0-beta.1', 1000, 10],
      ],
      current: '1.0.0',
      expected: { to: '1.1.0', patches: ['app-1.1.0.patch'], bytes: 10 },
    },
    {
      name: 'semver pre-releases: beta channel takes 2.0.0-beta.1',
      rows: [
        ['1.0.0', 1000, null],
        ['1.1.0', 1000, 10],
        ['2.0.0-beta.1', 1000, 10],
      ],
      current: '1.0.0',
      extra: { channel: 'beta' },
      expected: { to: '2.0.0b1', patches: ['app-1.1.0.patch', 'app-2.0.0-beta.1.patch'], bytes: 20 },
    },
    {
      name: 'a required pre-release outside the channel does not stop the walk',
      rows: [
        ['1.0', 1000, null],
        ['1.1a1', 1000, 10, true],
        ['1.1', 1000, 10],
      ],
      current: '1.0',
      expected: { to: '1.1', patches: ['app-1.1a1.patch', 'app-1.1.patch'], bytes: 20 },
    },
    {
      name: 'a required pre-release inside the channel does stop it',
      rows: [
        ['1.0', 1000, null],
        ['1.1a1', 1000, 10, true],
        ['1.1', 1000, 10],
      ],
      current: '1.0',
      extra: { channel: 'alpha' },
      expected: { to: '1.1a1', patches: ['app-1.1a1.patch'], bytes: 10 },
    },
    {
      name: 'post releases count as finals',
      rows: [
        ['1.0', 1000, null],
        ['1.0.post1', 1000, 10],
      ],
      current: '1.0',
      expected: { to: '1.0.post1', patches: ['app-1.0.post1.patch'], bytes: 10 },
    },
    {
      name: 'installed version newer than everything → no update (never a downgrade)',
      rows: [
        ['1.0', 1000, null],
        ['2.0', 1000, 10],
      ],
      current: '2.1',
      expected: { to: null },
    },
    { name: 'an empty repository → no update', rows: [], current: '1.0', expected: { to: null } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(plan(releases(c.rows), c.current, c.extra), c.expected));
  }

  it('a patch without the signed result hash (legacy metadata) breaks the chain', () => {
    const list = groupReleases([
      {
        name: 'app-1.0.tar.gz',
        length: 1000,
        hashes: { sha256: HASH(1) },
        custom: { user: null, tufup: { required: false } },
      },
      {
        name: 'app-2.0.tar.gz',
        length: 1000,
        hashes: { sha256: HASH(2) },
        custom: { user: null, tufup: { required: false } },
      },
      { name: 'app-2.0.patch', length: 10, hashes: { sha256: HASH(3) }, custom: null },
    ]).get('app')!;
    assert.deepEqual(plan(list, '1.0'), {
      to: '2.0',
      full: 'app-2.0.tar.gz',
      reason: 'chain-gap',
      bytes: 1000,
    });
  });
});

describe('channels', () => {
  const table: [string, Channel, boolean][] = [
    ['1.0', 'final', true],
    ['1.0rc1', 'final', false],
    ['1.0rc1', 'rc', true],
    ['1.0b1', 'rc', false],
    ['1.0b1', 'beta', true],
    ['1.0a1', 'beta', false],
    ['1.0a1', 'alpha', true],
    ['1.0.dev1', 'final', true],
    ['1.0+local', 'final', true],
    ['1.0.0-rc.2', 'rc', true],
    ['1.0.0-alpha.1', 'beta', false],
  ];
  for (const [version, channel, expected] of table) {
    it(`${version} on ${channel}: ${expected ? 'offered' : 'not offered'}`, () =>
      assert.equal(inChannel(parseVersion(version), channel), expected));
  }

  it('a version that failed its trial here is skipped: the next newer one is offered, else nothing', () => {
    const list = releases([
      ['1.0', 1000, null],
      ['1.1', 1000, 10],
      ['1.2', 1000, 10],
    ]);
    const pick = (failed: string[]) =>
      selectRelease({
        releases: list,
        current: parseVersion('1.0'),
        channel: 'final',
        failedVersions: new Set(failed),
      })?.version.normalized;
    assert.equal(pick([]), '1.2');
    assert.equal(pick(['1.2']), '1.1');
    assert.equal(pick(['1.2', '1.1']), undefined);
  });

  it('selectRelease ignores releases without an archive', () => {
    const list = releases([
      ['1.0', 1000, null],
      ['2.0', null, 10],
    ]);
    assert.equal(
      selectRelease({ releases: list, current: parseVersion('1.0'), channel: 'final' }),
      undefined,
    );
  });
});

describe('cachedArchiveFacts', () => {
  const list = fixtureReleases();
  const states: [string, Record<string, unknown>][] = [
    ['1.0', { archive: 'example_app-1.0.tar.gz' }],
    [
      '2.0',
      {
        archive: 'example_app-2.0.tar.gz',
        tarSize: 71680,
        tarHash: '797bc02b26cdc9d8084ea527964a3575415bc707aca3f4cdf3e7f64f16588b61',
      },
    ],
    ['9.9', {}],
  ];
  for (const [version, expected] of states) {
    it(`facts for ${version}`, () => {
      const f = cachedArchiveFacts(list, parseVersion(version));
      const shown: Record<string, unknown> = { ...f, ...(f.archive ? { archive: f.archive.name } : {}) };
      assert.deepEqual(shown, expected);
    });
  }
});
