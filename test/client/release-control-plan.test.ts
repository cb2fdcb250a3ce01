/**
 * Release control as data: the signed policy of releases (rollout waves, halt, recall, maintenance line, minimum
 * version) read from target entries, and the pure decisions over it (offer, select, plan, patch chains).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { offerDecision, rolloutBucket } from '../../src/client/plan/offer.js';
import { type PlanInput, patchChain, planUpdate } from '../../src/client/plan/plan-update.js';
import { selectOffered } from '../../src/client/plan/select-release.js';
import { buildArchiveCustom, buildPatchCustom, parseTargetCustom } from '../../src/core/custom-metadata.js';
import {
  describeReleasePolicy,
  inLine,
  type ReleasePolicy,
  rolloutPercent,
} from '../../src/core/release-policy.js';
import { groupReleases, type Release, type TargetEntry } from '../../src/core/releases.js';
import { parseVersion } from '../../src/core/version.js';
import { applyPolicyChange } from '../../src/repo/release-control.js';
import { parseRolloutSchedule } from '../../src/repo/rollout-schedule.js';

const HASH = (n: number) => n.toString(16).padStart(64, '0');
const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

/** Releases from rows of [version, policy?, required?]; each has an archive and a patch from the one before. */
function releases(rows: readonly [string, ReleasePolicy?, boolean?][]): Release[] {
  const entries: TargetEntry[] = rows.flatMap(([version, policy, required = false], i) => [
    {
      name: `app-${version}.tar.gz`,
      length: 1000,
      hashes: { sha256: HASH(i * 2 + 1) },
      custom: buildArchiveCustom({
        required,
        tarSize: 3000,
        tarHash: HASH(100 + i),
        ...(policy ? { policy } : {}),
      }),
    },
    {
      name: `app-${version}.patch`,
      length: 10,
      hashes: { sha256: HASH(i * 2 + 2) },
      custom: buildPatchCustom({ tarSize: 3000, tarHash: HASH(100 + i), codec: 'notsotuf' }),
    },
  ]);
  return groupReleases(entries).get('app') ?? [];
}

function input(list: Release[], current: string, installId = 'install-a', now = T0): PlanInput {
  const v = parseVersion(current);
  return {
    releases: list,
    current: v,
    channel: 'final',
    offer: { app: 'app', current: v, installId, now },
    allowPatches: true,
    cachedArchive: 'verified',
    failedPatches: new Set(),
    knownCodecs: new Set(['notsotuf', 'bsdiff4']),
  };
}

/** An install id whose bucket for app 1.1.0 is below (or not below) `percent`. */
function installWithBucket(below: boolean, percent: number, version = '1.1.0'): string {
  for (let i = 0; ; i++) {
    const id = `probe-${i}`;
    if (rolloutBucket(id, 'app', parseVersion(version)) < percent === below) return id;
  }
}

const wave = (percent: number, hoursFromT0: number) => ({
  percent,
  start: new Date(T0 + hoursFromT0 * HOUR).toISOString().replace('.000Z', 'Z'),
});

describe('release policy in the metadata', () => {
  it('round-trips through custom.tufup.notsotuf, beside the tar facts', () => {
    const policy: ReleasePolicy = {
      rollout: [wave(10, 0), wave(100, 48)],
      halted: true,
      recall: { to: '1.0.0', reason: 'crash on start' },
      line: '1.4',
      minimumVersion: '1.2.0',
    };
    const custom = buildArchiveCustom({ required: false, tarSize: 5, tarHash: HASH(1), policy });
    assert.deepEqual(Object.keys(custom), ['user', 'tufup'], 'tufup clients still read it as their own');
    assert.deepEqual(parseTargetCustom(custom).policy, policy);
    assert.equal(
      parseTargetCustom(buildArchiveCustom({ required: false, tarSize: 5, tarHash: HASH(1) })).policy,
      undefined,
    );
  });

  it('rejects malformed policies from a repository with METADATA_INVALID naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ rollout: [{ percent: 101, start: '2026-12-01T00:00:00Z' }] }, /rollout\[0\]\.percent/],
      [{ rollout: [{ percent: 10.5, start: '2026-12-01T00:00:00Z' }] }, /percent/],
      [{ rollout: [{ percent: 10, start: 'tomorrow' }] }, /start must be an ISO/],
      [{ rollout: [wave(50, 0), wave(10, 1)] }, /never go down/],
      [{ rollout: [] }, /list of 1 to/],
      [{ halted: 'yes' }, /halted must be true or false/],
      [{ recall: { to: 'not a version!' } }, /recall\.to/],
      [{ line: '1.x' }, /line must be a version prefix/],
      [{ minimum_version: 3 }, /minimum_version/],
    ];
    for (const [fields, message] of bad) {
      const custom = {
        user: null,
        tufup: { required: false, notsotuf: { tar_size: 1, tar_hash: HASH(1), ...fields } },
      };
      assert.throws(
        () => parseTargetCustom(custom, 'app-1.0.0.tar.gz'),
        (err: { code?: string; message: string }) =>
          err.code === 'METADATA_INVALID' && message.test(err.message),
        JSON.stringify(fields),
      );
    }
  });

  it('computes the share of now from the waves, and describes the policy', () => {
    const waves = [wave(10, 0), wave(50, 24), wave(100, 72)];
    assert.equal(rolloutPercent(waves, T0 - 1), 0, 'before the first wave nobody');
    assert.equal(rolloutPercent(waves, T0), 10);
    assert.equal(rolloutPercent(waves, T0 + 25 * HOUR), 50);
    assert.equal(rolloutPercent(waves, T0 + 72 * HOUR), 100);
    assert.equal(rolloutPercent(undefined, T0), 100, 'no rollout: everybody');
    assert.equal(
      describeReleasePolicy({ rollout: waves, halted: true }, T0 + HOUR),
      'rollout 10 % (50 % from 2026-12-02T00:00:00Z), halted',
    );
  });

  it('lines are version prefixes', () => {
    assert.ok(inLine(parseVersion('1.4.3'), '1.4'));
    assert.ok(inLine(parseVersion('1.4'), '1.4'));
    assert.ok(!inLine(parseVersion('1.40.0'), '1.4'));
    assert.ok(!inLine(parseVersion('2.4.0'), '1.4'));
    assert.ok(inLine(parseVersion('1.9.2'), '1'));
  });

  it('parses --percent/--then into absolute waves, refusing nonsense', () => {
    const now = new Date(T0);
    assert.deepEqual(parseRolloutSchedule('10', ['50@24h', '100@3d'], now), [
      wave(10, 0),
      wave(50, 24),
      wave(100, 72),
    ]);
    for (const [p, then] of [
      ['ten', []],
      ['10', ['50']],
      ['10', ['5@1h']],
      ['101', []],
      ['10', ['50@1w']],
    ] as const) {
      assert.throws(() => parseRolloutSchedule(p, then, now), { code: 'INVALID_ARGUMENT' }, `${p} ${then}`);
    }
  });

  it('applies policy changes as data', () => {
    const start: ReleasePolicy = { line: '1.4' };
    const rolled = applyPolicyChange(start, { kind: 'rollout', waves: [wave(10, 0)] });
    assert.deepEqual(rolled, { line: '1.4', rollout: [wave(10, 0)] });
    assert.deepEqual(applyPolicyChange(rolled, { kind: 'rollout', waves: [wave(100, 0)] }), { line: '1.4' });
    const halted = applyPolicyChange(rolled, { kind: 'halt' });
    assert.equal(halted.halted, true);
    assert.deepEqual(applyPolicyChange(halted, { kind: 'resume' }), rolled);
    const recalled = applyPolicyChange(start, { kind: 'recall', to: '1.4.1', reason: 'data loss' });
    assert.deepEqual(recalled.recall, { to: '1.4.1', reason: 'data loss' });
    assert.deepEqual(applyPolicyChange(recalled, { kind: 'unrecall' }), start);
    assert.deepEqual(applyPolicyChange(start, { kind: 'minimum', minimumVersion: '1.2.0' }), {
      ...start,
      minimumVersion: '1.2.0',
    });
    assert.deepEqual(
      applyPolicyChange({ minimumVersion: '1.2.0' }, { kind: 'minimum', minimumVersion: undefined }),
      {},
    );
  });
});

describe('offering releases by policy', () => {
  it('buckets are stable, per release, and spread evenly', () => {
    const v = parseVersion('1.1.0');
    assert.equal(rolloutBucket('x', 'app', v), rolloutBucket('x', 'app', v));
    assert.notEqual(rolloutBucket('x', 'app', v), rolloutBucket('x', 'app', parseVersion('1.2.0')));
    let below10 = 0;
    for (let i = 0; i < 10_000; i++) if (rolloutBucket(`id-${i}`, 'app', v) < 10) below10++;
    assert.ok(below10 > 900 && below10 < 1100, `${below10} of 10000 below 10 %`);
  });

  it('a rollout offers the release to installs whose bucket is below the share of now', () => {
    const list = releases([['1.0.0'], ['1.1.0', { rollout: [wave(10, 0), wave(100, 48)] }]]);
    const lucky = installWithBucket(true, 10);
    const later = installWithBucket(false, 10);
    assert.equal(planUpdate(input(list, '1.0.0', lucky)).kind, 'update');
    const plan = planUpdate(input(list, '1.0.0', later));
    assert.equal(plan.kind, 'none');
    assert.deepEqual(
      plan.withheld?.map((w) => [w.version, w.reason, w.percent]),
      [['1.1.0', 'rollout', 10]],
    );
    // The next wave reaches everybody.
    assert.equal(planUpdate(input(list, '1.0.0', later, T0 + 48 * HOUR)).kind, 'update');
    // Before the first wave starts, nobody.
    assert.equal(planUpdate(input(list, '1.0.0', lucky, T0 - HOUR)).kind, 'none');
  });

  it('withheld newer releases fall back to the newest offered one', () => {
    const list = releases([['1.0.0'], ['1.1.0'], ['1.2.0', { halted: true }]]);
    const plan = planUpdate(input(list, '1.0.0'));
    assert.equal(plan.kind === 'update' && plan.release.version.normalized, '1.1.0');
    assert.equal(plan.kind === 'update' && plan.method.kind, 'patch');
    assert.deepEqual(
      plan.withheld?.map((w) => w.reason),
      ['halted'],
    );
  });

  it('a halted release is offered to nobody new; installs on it stay', () => {
    const list = releases([['1.0.0'], ['1.1.0', { halted: true }]]);
    assert.equal(planUpdate(input(list, '1.0.0')).kind, 'none');
    assert.equal(planUpdate(input(list, '1.1.0')).kind, 'none', 'no downgrade for a halt');
  });

  it('a required release not yet offered blocks later releases; a recalled one does not', () => {
    const id = installWithBucket(false, 10);
    const blocked = releases([['1.0.0'], ['1.1.0', { rollout: [wave(10, 0)] }, true], ['1.2.0']]);
    const plan = planUpdate(input(blocked, '1.0.0', id));
    assert.equal(plan.kind, 'none', 'never jump over a required release');
    const recalled = releases([['1.0.0'], ['1.1.0', { recall: { to: '1.0.0' } }, true], ['1.2.0']]);
    const next = planUpdate(input(recalled, '1.0.0', id));
    assert.equal(next.kind === 'update' && next.release.version.normalized, '1.2.0');
  });

  it('a recall moves installs on the recalled release to the good one, by full archive', () => {
    const list = releases([['1.0.0'], ['1.1.0', { recall: { to: '1.0.0', reason: 'corrupts data' } }]]);
    const plan = planUpdate(input(list, '1.1.0'));
    assert.equal(plan.kind, 'update');
    if (plan.kind !== 'update') return;
    assert.equal(plan.release.version.normalized, '1.0.0');
    assert.deepEqual(plan.method.kind === 'full' && plan.method.reason, 'recall');
    assert.deepEqual(plan.reason, { critical: true, recall: { from: '1.1.0', reason: 'corrupts data' } });
    // Installs on other versions are not moved, and nobody new is offered 1.1.0.
    assert.equal(planUpdate(input(list, '1.0.0')).kind, 'none');
  });

  it('a recalled install takes a newer good release when one is offered, instead of going back', () => {
    const list = releases([['1.0.0'], ['1.1.0', { recall: { to: '1.0.0' } }], ['1.1.1']]);
    const plan = planUpdate(input(list, '1.1.0'));
    assert.equal(plan.kind === 'update' && plan.release.version.normalized, '1.1.1');
    assert.equal(plan.kind === 'update' && plan.reason?.recall, undefined);
  });

  it('a recall to a release that failed here, or is itself recalled, moves nobody', () => {
    const list = releases([['1.0.0'], ['1.1.0', { recall: { to: '1.0.0' } }]]);
    assert.equal(planUpdate({ ...input(list, '1.1.0'), failedVersions: new Set(['1.0.0']) }).kind, 'none');
    const loop = releases([
      ['1.0.0', { recall: { to: '1.1.0' } }],
      ['1.1.0', { recall: { to: '1.0.0' } }],
    ]);
    assert.equal(planUpdate(input(loop, '1.1.0')).kind, 'none');
  });

  it('a critical release reaches installs below its minimum version whatever their bucket', () => {
    const id = installWithBucket(false, 10, '1.2.0');
    const list = releases([
      ['1.0.0'],
      ['1.1.0'],
      ['1.2.0', { rollout: [wave(10, 0)], minimumVersion: '1.1.0' }],
    ]);
    const below = planUpdate(input(list, '1.0.0', id));
    assert.equal(below.kind === 'update' && below.release.version.normalized, '1.2.0');
    assert.equal(below.kind === 'update' && below.reason?.critical, true);
    assert.equal(planUpdate(input(list, '1.1.0', id)).kind, 'none', 'at the minimum: the rollout decides');
    const halted = releases([['1.0.0'], ['1.2.0', { halted: true, minimumVersion: '1.1.0' }]]);
    assert.equal(planUpdate(input(halted, '1.0.0')).kind, 'none', 'a halt still stops it');
  });

  it('a maintenance release is offered only on its line, and patches chain within lines', () => {
    const list = releases([['1.4.1'], ['1.4.2'], ['2.0.0'], ['1.4.3', { line: '1.4' }], ['2.0.1']]);
    const onLine = planUpdate(input(list, '1.4.2', installWithBucket(true, 100)));
    // 2.0.1 is the newest offered release for an install on 1.4.2 (main line, offered to all).
    assert.equal(onLine.kind === 'update' && onLine.release.version.normalized, '2.0.1');
    const mainHalted = releases([
      ['1.4.1'],
      ['1.4.2'],
      ['2.0.0', { halted: true }],
      ['1.4.3', { line: '1.4' }],
    ]);
    const maint = planUpdate(input(mainHalted, '1.4.2'));
    assert.equal(maint.kind === 'update' && maint.release.version.normalized, '1.4.3');
    assert.deepEqual(
      maint.kind === 'update' && maint.method.kind === 'patch' && maint.method.patches.map((p) => p.name),
      ['app-1.4.3.patch'],
    );
    // Other lines never see it.
    const d = offerDecision(mainHalted.find((r) => r.version.normalized === '1.4.3') as Release, {
      app: 'app',
      current: parseVersion('1.3.0'),
      installId: 'x',
      now: T0,
    });
    assert.deepEqual(d, { offered: false, withheld: { version: '1.4.3', reason: 'line', line: '1.4' } });
    // The main line's chain skips the maintenance release: 1.4.2 → 2.0.0 → 2.0.1.
    assert.deepEqual(
      patchChain(list, parseVersion('1.4.2'), parseVersion('2.0.1'))?.map((p) => p.name),
      ['app-2.0.0.patch', 'app-2.0.1.patch'],
    );
    // From the maintenance release, the main line has no chain (its patches start elsewhere): full archive.
    assert.equal(patchChain(list, parseVersion('1.4.3'), parseVersion('2.0.1')), undefined);
  });

  it('selection without policies (no offer context) is unchanged', () => {
    const list = releases([['1.0.0'], ['1.1.0', { halted: true }]]);
    const { offer: _o, ...plain } = input(list, '1.0.0');
    assert.equal(selectOffered(plain).release?.version.normalized, '1.1.0');
  });
});
