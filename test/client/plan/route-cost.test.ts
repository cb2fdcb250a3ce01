import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PlanInput, planUpdate } from '../../../src/client/plan/plan-update.js';
import {
  DEFAULT_ROUTE_COSTS,
  estimateRoutes,
  type RouteCostTable,
} from '../../../src/client/plan/route-cost.js';
import { buildArchiveCustom, buildPatchCustom } from '../../../src/core/custom-metadata.js';
import { groupReleases, type Release, type TargetEntry } from '../../../src/core/releases.js';
import { parseVersion } from '../../../src/core/version.js';

const HASH = (n: number) => n.toString(16).padStart(64, '0');
const MB = 1e6;

/** Round numbers: 1e-8 s per tar byte to apply bsdiff4, 5e-9 notsotuf, 1e-9 to unpack. */
const COSTS: RouteCostTable = {
  applyPerTarByte: { bsdiff4: 1e-8, notsotuf: 5e-9 },
  applyUnknownCodec: 1e-8,
  unpackPerTarByte: 1e-9,
  defaultRate: 1 * MB,
  minSecondsSaved: 0,
};

/** 1.0 → 2.0 (→ 3.0): archives of `archive` bytes over tars of `tar` bytes; patches of the given sizes and codec. */
function releases(archive: number, tar: number, patches: readonly number[], codec?: string): Release[] {
  const entries: TargetEntry[] = [];
  const versions = ['1.0', '2.0', '3.0'].slice(0, patches.length + 1);
  versions.forEach((version, i) => {
    entries.push({
      name: `app-${version}.tar.gz`,
      length: archive,
      hashes: { sha256: HASH(2 * i + 1) },
      custom: buildArchiveCustom({ required: false, tarSize: tar, tarHash: HASH(100 + i) }),
    });
    if (i > 0) {
      entries.push({
        name: `app-${version}.patch`,
        length: patches[i - 1]!,
        hashes: { sha256: HASH(2 * i + 2) },
        custom: buildPatchCustom({ tarSize: tar, tarHash: HASH(100 + i), ...(codec ? { codec } : {}) }),
      });
    }
  });
  return groupReleases(entries).get('app') ?? [];
}

function decide(list: readonly Release[], extra: Partial<PlanInput> = {}) {
  const plan = planUpdate({
    releases: list,
    current: parseVersion('1.0'),
    channel: 'final',
    allowPatches: true,
    cachedArchive: 'verified',
    failedPatches: new Set(),
    knownCodecs: new Set(['bsdiff4', 'notsotuf']),
    routeCosts: COSTS,
    ...extra,
  });
  assert.equal(plan.kind, 'update');
  const m = plan.kind === 'update' ? plan.method : undefined;
  return m?.kind === 'full' ? `full:${m.reason}` : `patch:${m?.kind === 'patch' ? m.patches.length : 0}`;
}

describe('estimateRoutes: download time at the rate plus CPU time per tar byte', () => {
  const cases = [
    {
      name: 'one bsdiff4 patch at 1 MB/s: 1 s download + 1 s apply vs 50 s + 0.1 s',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      rate: 1 * MB,
      expected: { patchSeconds: 2, fullSeconds: 50.1, rate: 1 * MB },
    },
    {
      name: 'the notsotuf codec costs its own rate per byte',
      list: releases(50 * MB, 100 * MB, [1 * MB], 'notsotuf'),
      rate: 1 * MB,
      expected: { patchSeconds: 1.5, fullSeconds: 50.1, rate: 1 * MB },
    },
    {
      name: 'a chain pays each apply; the full route unpacks once',
      list: releases(50 * MB, 100 * MB, [1 * MB, 2 * MB]),
      rate: 1 * MB,
      expected: { patchSeconds: 5, fullSeconds: 50.1, rate: 1 * MB },
    },
    {
      name: 'no measured rate: the table default',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      rate: undefined,
      expected: { patchSeconds: 2, fullSeconds: 50.1, rate: 1 * MB },
    },
    {
      name: 'a nonsense rate (0, negative, NaN) is ignored',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      rate: Number.NaN,
      expected: { patchSeconds: 2, fullSeconds: 50.1, rate: 1 * MB },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const target = c.list.at(-1)!;
      const patches = c.list.slice(1).map((r) => r.patch!);
      const got = estimateRoutes({
        patches,
        archive: target.archive!,
        ...(c.rate === undefined ? {} : { rate: c.rate }),
        costs: COSTS,
      });
      assert.deepEqual(
        {
          ...got,
          patchSeconds: Number(got.patchSeconds.toFixed(6)),
          fullSeconds: Number(got.fullSeconds.toFixed(6)),
        },
        c.expected,
      );
    });
  }

  it('the default table has a cost for every codec the client registers, and a positive default rate', () => {
    assert.deepEqual(Object.keys(DEFAULT_ROUTE_COSTS.applyPerTarByte).sort(), ['bsdiff4', 'notsotuf']);
    assert.ok(DEFAULT_ROUTE_COSTS.defaultRate > 0);
  });
});

describe('planUpdate weighs apply time against the download time saved', () => {
  const cases: { name: string; list: Release[]; extra?: Partial<PlanInput>; expected: string }[] = [
    {
      name: 'slow link: a small patch wins',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      extra: { downloadRate: 1 * MB },
      expected: 'patch:1',
    },
    {
      // patch: 1 MB / 1 GB/s + 1 s = 1.0 s; full: 0.05 s + 0.1 s.
      name: 'loopback-fast link: applying takes longer than downloading the archive → full, patch-slower',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      extra: { downloadRate: 1000 * MB },
      expected: 'full:patch-slower',
    },
    {
      // patch: 0.1 s + 1.2 s; full: 0.5 s + 0.1 s at 100 MB/s.
      name: 'at 100 MB/s the same patch is still slower',
      list: releases(50 * MB, 100 * MB, [10 * MB]),
      extra: { downloadRate: 100 * MB },
      expected: 'full:patch-slower',
    },
    {
      // patch: 0.2 s + 0.5 s = 0.7 s; full: 0.5 s + 0.1 s = 0.6 s → full; bsdiff4 would be 1.2 s.
      name: 'the codec matters: notsotuf at 100 MB/s with a 20 MB patch is still slower than 50 MB',
      list: releases(50 * MB, 100 * MB, [20 * MB], 'notsotuf'),
      extra: { downloadRate: 100 * MB },
      expected: 'full:patch-slower',
    },
    {
      // patch: 0.01 s + 0.5 s = 0.51 s; full: 1 s + 0.1 s.
      name: 'notsotuf at 50 MB/s: the patch wins',
      list: releases(50 * MB, 100 * MB, [0.5 * MB], 'notsotuf'),
      extra: { downloadRate: 50 * MB },
      expected: 'patch:1',
    },
    {
      // 1.3 s against 0.6 s: 0.7 s saved, below a 1 s margin → tufup's choice stands.
      name: 'the full archive must save at least minSecondsSaved to replace the patch',
      list: releases(50 * MB, 100 * MB, [10 * MB]),
      extra: { downloadRate: 100 * MB, routeCosts: { ...COSTS, minSecondsSaved: 1 } },
      expected: 'patch:1',
    },
    {
      name: "tufup's 0.8 ratio stays an upper bound, however slow the link",
      list: releases(50 * MB, 100 * MB, [41 * MB]),
      extra: { downloadRate: 1 },
      expected: 'full:patches-too-large',
    },
    {
      name: 'without a rate the default (1 MB/s in this table) decides',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      expected: 'patch:1',
    },
    {
      name: 'rules before the estimate still come first (patches disabled)',
      list: releases(50 * MB, 100 * MB, [1 * MB]),
      extra: { allowPatches: false, downloadRate: 1 },
      expected: 'full:patches-disabled',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(decide(c.list, c.extra), c.expected));

  it('the estimate is part of the method, for both outcomes', () => {
    for (const downloadRate of [1 * MB, 1000 * MB]) {
      const plan = planUpdate({
        releases: releases(50 * MB, 100 * MB, [1 * MB]),
        current: parseVersion('1.0'),
        channel: 'final',
        allowPatches: true,
        cachedArchive: 'verified',
        failedPatches: new Set(),
        knownCodecs: new Set(['bsdiff4']),
        routeCosts: COSTS,
        downloadRate,
      });
      assert.ok(plan.kind === 'update' && plan.method.estimate);
      assert.equal(plan.kind === 'update' && plan.method.estimate?.rate, downloadRate);
    }
  });
});
