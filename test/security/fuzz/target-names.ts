/** Fuzzing of target names and app names (src/core/target-name.ts). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatTargetName,
  MAX_APP_NAME_LENGTH,
  parseTargetName,
  platformAppName,
  validateAppName,
} from '../../../src/core/target-name.js';
import { parseVersion, tryParseVersion } from '../../../src/core/version.js';
import { countOutcome, type ErrorExpectation, type FuzzArea, outcomeOfSync } from './common.js';
import { longVersionish, nonStringValues, versionish } from './versions.js';

const APP_CODES: ErrorExpectation = { codes: ['APP_NAME_INVALID'] };

const appish = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,20}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '-app',
      'my.app',
      'a/b',
      '..',
      'x'.repeat(MAX_APP_NAME_LENGTH + 1),
      'app-',
      'ä',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export const targetNameProperties: FuzzArea = ({ scale }) => {
  const targetNameish = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          appish,
          fc.constantFrom('-', '--', '_', ''),
          versionish(),
          fc.constantFrom('.tar.gz', '.patch', '.tar', '.gz', '', '.TAR.GZ', '.patch.tar.gz'),
        )
        .map((p) => p.join('')),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 120 * scale }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('../', '/', 'a/', 'C:\\', '%2e%2e/'), versionish())
        .map(([a, b]) => `${a}app-${b}.tar.gz`),
    },
  );
  return [
    {
      name: 'target-name: parseTargetName on arbitrary strings',
      testRuns: 300,
      weight: 1,
      property: fc.property(fc.oneof(targetNameish, nonStringValues), (input) => {
        // Documented as never throwing: any throw at all fails here.
        const t = parseTargetName(input as string);
        countOutcome(t === undefined ? 'undefined' : 'ok');
        if (t === undefined) return;
        const s = input as string;
        assert.equal(t.name, s);
        assert.equal(validateAppName(t.app), t.app);
        assert.ok(s.startsWith(`${t.app}-`) && s.endsWith(t.suffix));
        assert.equal(t.kind, t.suffix === '.patch' ? 'patch' : 'archive');
        const stem = s.slice(0, s.length - t.suffix.length);
        const versionText = stem.slice(t.app.length + 1);
        assert.equal(parseVersion(versionText).normalized, t.version.normalized);
        // Greedy like tufup: no longer valid app name leaves a valid version.
        for (
          let dash = stem.indexOf('-', t.app.length + 1);
          dash !== -1;
          dash = stem.indexOf('-', dash + 1)
        ) {
          const longer = stem.slice(0, dash);
          const ok = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(longer) && longer.length <= MAX_APP_NAME_LENGTH;
          assert.ok(!ok || tryParseVersion(stem.slice(dash + 1)) === undefined, `greedy split of ${s}`);
        }
        // Formatting the parts again gives a name with the same parts.
        const again = parseTargetName(formatTargetName(t.app, t.version, t.kind));
        assert.ok(again);
        assert.equal(again.app, t.app);
        assert.equal(again.kind, t.kind);
        assert.equal(again.version.normalized, t.version.normalized);
      }),
    },
    {
      name: 'target-name: validateAppName, platformAppName and formatTargetName on arbitrary parts',
      testRuns: 300,
      weight: 1,
      property: fc.property(
        fc.oneof(appish, nonStringValues),
        // Versions reach formatTargetName as strings or parsed Versions (its signature); any other object is a
        // type error of the caller, not untrusted input.
        fc.oneof(versionish(), longVersionish),
        fc.oneof(fc.constantFrom('archive', 'patch'), fc.string({ maxLength: 8 })),
        fc.oneof(fc.constantFrom(undefined, '.tar.gz', '.patch', '.zip'), fc.string({ maxLength: 8 })),
        fc.oneof(
          fc.stringMatching(/^[a-z0-9]{1,8}-[a-z0-9]{1,8}$/),
          fc.string({ maxLength: 10 }),
          nonStringValues,
        ),
        (app, version, kind, suffix, platform) => {
          const a = outcomeOfSync(() => validateAppName(app as string), APP_CODES);
          if (a.ok) {
            assert.equal(a.value, app);
            assert.ok(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(a.value) && a.value.length <= MAX_APP_NAME_LENGTH);
          }
          const p = outcomeOfSync(() => platformAppName(app as string, platform as string), {
            codes: ['APP_NAME_INVALID', 'PLATFORM_INVALID'],
          });
          if (p.ok) {
            assert.equal(p.value, `${String(app)}-${String(platform)}`);
            assert.equal(validateAppName(p.value), p.value);
          }
          const f = outcomeOfSync(
            () =>
              formatTargetName(
                app as string,
                version as string,
                kind as 'archive',
                suffix as string | undefined,
              ),
            { codes: ['APP_NAME_INVALID', 'VERSION_INVALID', 'TARGET_NAME_INVALID'] },
          );
          if (f.ok) {
            const v = parseVersion(version as string);
            assert.ok(f.value.startsWith(`${String(app)}-${v.normalized}`));
            const t = parseTargetName(f.value);
            assert.ok(t, `${f.value} parses back`);
            assert.equal(t.app, app);
            assert.equal(t.kind, kind);
            assert.equal(t.version.normalized, v.normalized);
          }
        },
      ),
    },
  ];
};
