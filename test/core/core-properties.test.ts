import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NotsotufError } from '../../src/core/errors.js';
import { formatTargetName, parseTargetName, type TargetKind } from '../../src/core/target-name.js';
import { compareVersions, parseVersion, type Version } from '../../src/core/version.js';

const sep = fc.constantFrom('', '.', '-', '_');
const num = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 100_000 }));
const casing = (s: string) => fc.constantFrom(s, s.toUpperCase());

/** Any PEP 440 spelling: random separators, casing and alternate spellings, small numbers so that ties happen. */
const versionString: fc.Arbitrary<string> = fc
  .record({
    v: fc.constantFrom('', 'v'),
    epoch: fc.option(num, { nil: undefined }),
    release: fc.array(num, { minLength: 1, maxLength: 4 }),
    pre: fc.option(
      fc.tuple(
        sep,
        fc.constantFrom('a', 'alpha', 'b', 'beta', 'c', 'rc', 'pre', 'preview').chain(casing),
        sep,
        fc.option(num),
      ),
      { nil: undefined },
    ),
    post: fc.option(
      fc.oneof(
        num.map((n) => `-${n}`),
        fc
          .tuple(sep, fc.constantFrom('post', 'rev', 'r').chain(casing), sep, fc.option(num))
          .map(([a, l, b, n]) => `${a}${l}${n === null ? '' : b + n}`),
      ),
      { nil: undefined },
    ),
    dev: fc.option(fc.tuple(sep, casing('dev'), sep, fc.option(num)), { nil: undefined }),
    local: fc.option(
      fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9]{1,4}$/), num.map(String)), {
        minLength: 1,
        maxLength: 3,
      }),
      { nil: undefined },
    ),
  })
  .map((p) => {
    let s = p.v;
    if (p.epoch !== undefined) s += `${p.epoch}!`;
    s += p.release.join('.');
    if (p.pre) s += `${p.pre[0]}${p.pre[1]}${p.pre[3] === null ? '' : p.pre[2] + p.pre[3]}`;
    if (p.post !== undefined) s += p.post;
    if (p.dev) s += `${p.dev[0]}${p.dev[1]}${p.dev[3] === null ? '' : p.dev[2] + p.dev[3]}`;
    if (p.local) s += `+${p.local.join('.')}`;
    return s;
  })
  .filter((s) => s.length <= 64);

const version: fc.Arbitrary<Version> = versionString.map((s) => parseVersion(s));

function onlyNotsotufErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof NotsotufError, `unexpected ${String(err)}`);
  }
}

describe('version properties', () => {
  it('normalized form round-trips and equals the original', () => {
    fc.assert(
      fc.property(version, (v) => {
        const again = parseVersion(v.normalized);
        assert.equal(again.normalized, v.normalized);
        assert.equal(compareVersions(v, again), 0);
      }),
    );
  });

  it('compareVersions is reflexive and antisymmetric', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        assert.equal(compareVersions(a, a), 0);
        assert.equal(Math.sign(compareVersions(a, b)), -Math.sign(compareVersions(b, a)));
      }),
    );
  });

  it('compareVersions is transitive', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareVersions) as [Version, Version, Version];
        assert.ok(compareVersions(x, y) <= 0 && compareVersions(y, z) <= 0);
        assert.ok(compareVersions(x, z) <= 0);
        if (compareVersions(x, y) === 0 && compareVersions(y, z) === 0)
          assert.equal(compareVersions(x, z), 0);
      }),
    );
  });

  it('parseVersion on arbitrary strings succeeds or throws NotsotufError', () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.stringMatching(/^[0-9a-zA-Z.!+_-]{0,70}$/),
      versionString.map((s) => `${s}x`),
    );
    fc.assert(
      fc.property(junk, (s) => onlyNotsotufErrors(() => parseVersion(s))),
      { numRuns: 2000 },
    );
  });
});

describe('target name properties', () => {
  const appName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,30}$/);
  const kind = fc.constantFrom<TargetKind>('archive', 'patch');

  it('formatTargetName output parses back to the same parts', () => {
    fc.assert(
      fc.property(appName, version, kind, (app, v, k) => {
        const t = parseTargetName(formatTargetName(app, v, k));
        assert.ok(t);
        assert.equal(t.app, app);
        assert.equal(t.kind, k);
        assert.equal(t.version.normalized, v.normalized);
      }),
    );
  });

  it('parseTargetName on arbitrary strings never throws', () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc
        .tuple(fc.stringMatching(/^[A-Za-z0-9._+!-]{0,40}$/), fc.constantFrom('.tar.gz', '.patch', ''))
        .map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(junk, (s) => {
        onlyNotsotufErrors(() => parseTargetName(s));
        const t = parseTargetName(s);
        if (t) assert.equal(t.name, s);
      }),
      { numRuns: 2000 },
    );
  });
});
